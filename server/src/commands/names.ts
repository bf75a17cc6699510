import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'NAMES',
  run() { throw new Error('NAMES not implemented yet'); },
});
