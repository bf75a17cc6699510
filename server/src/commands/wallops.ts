import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'WALLOPS',
  run() { throw new Error('WALLOPS not implemented yet'); },
});
