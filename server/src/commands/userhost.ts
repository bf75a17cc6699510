import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'USERHOST',
  run() { throw new Error('USERHOST not implemented yet'); },
});
