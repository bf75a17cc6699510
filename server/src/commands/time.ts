import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'TIME',
  run() { throw new Error('TIME not implemented yet'); },
});
