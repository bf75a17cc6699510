import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'LIST',
  run() { throw new Error('LIST not implemented yet'); },
});
