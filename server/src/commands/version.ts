import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'VERSION',
  run() { throw new Error('VERSION not implemented yet'); },
});
