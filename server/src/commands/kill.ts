import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'KILL',
  run() { throw new Error('KILL not implemented yet'); },
});
