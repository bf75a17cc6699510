import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'KICK',
  run() { throw new Error('KICK not implemented yet'); },
});
