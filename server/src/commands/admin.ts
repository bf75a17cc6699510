import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'ADMIN',
  run() { throw new Error('ADMIN not implemented yet'); },
});
