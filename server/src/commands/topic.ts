import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'TOPIC',
  run() { throw new Error('TOPIC not implemented yet'); },
});
