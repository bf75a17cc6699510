import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'INFO',
  run() { throw new Error('INFO not implemented yet'); },
});
