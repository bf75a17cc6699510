import { defineCommand } from './registry.js';

// Placeholder: being implemented (see docs/architecture.md). Not advertised anywhere yet.
export default defineCommand({
  name: 'WHOIS',
  run() { throw new Error('WHOIS not implemented yet'); },
});
