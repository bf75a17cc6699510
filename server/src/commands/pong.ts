import { defineCommand } from './registry.js';

/** PONG — any line already counts as activity (session.ts); nothing else to do. */
export default defineCommand({
  name: 'PONG',
  preReg: true,
  help: 'PONG <token>\nAnswer to a server PING.',
  run() { /* activity was recorded when the line arrived */ },
});
