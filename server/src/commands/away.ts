import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'AWAY',
  run() { throw new Error('AWAY not implemented yet'); },
});
