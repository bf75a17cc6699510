import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'HELP',
  run() { throw new Error('HELP not implemented yet'); },
});
