import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'OPER',
  run() { throw new Error('OPER not implemented yet'); },
});
