import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'WHO',
  run() { throw new Error('WHO not implemented yet'); },
});
