import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'INVITE',
  run() { throw new Error('INVITE not implemented yet'); },
});
