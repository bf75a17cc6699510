import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'WHOWAS',
  run() { throw new Error('WHOWAS not implemented yet'); },
});
