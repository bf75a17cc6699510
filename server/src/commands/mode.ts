import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'MODE',
  run() { throw new Error('MODE not implemented yet'); },
});
