import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'ISON',
  run() { throw new Error('ISON not implemented yet'); },
});
