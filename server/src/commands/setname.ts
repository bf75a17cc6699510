import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'SETNAME',
  run() { throw new Error('SETNAME not implemented yet'); },
});
