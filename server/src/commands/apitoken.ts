import { defineCommand } from './registry.js';

/**
 * APITOKEN [REVOKE] — a bearer token for the HTTP API (GET /api/v1/me and later user routes).
 * Logged-in users only: the token is bound to the account (DID), not to this connection, is 256
 * random bits (never a session id: freeq-reference.md §6), valid 24 hours, and stored hashed.
 * The token appears only in this reply, never in a log. `APITOKEN REVOKE` revokes every token of
 * the account.
 */
export default defineCommand({
  name: 'APITOKEN',
  help: 'APITOKEN [REVOKE]\nGives you a bearer token for the HTTP API, valid 24 hours (logged-in users only).\nAPITOKEN REVOKE revokes all your tokens.',
  run(ctx, [sub]) {
    const { server, user } = ctx;
    const note = (...params: string[]) => ctx.send({ tags: new Map(), source: server.config.serverName, command: 'NOTE', params: ['APITOKEN', ...params] });
    if (user.account === undefined) {
      ctx.fail('APITOKEN', 'ACCOUNT_REQUIRED', 'You must be logged in');
      return;
    }
    if (sub === undefined) {
      const { token } = server.apiTokens.issue(user.account);
      note('ISSUED', token, 'Bearer token for the HTTP API, valid 24 hours');
      return;
    }
    if (sub.toUpperCase() === 'REVOKE') {
      const n = server.apiTokens.revokeAll(user.account);
      note('REVOKED', String(n), 'All your HTTP API tokens are revoked');
      return;
    }
    ctx.fail('APITOKEN', 'INVALID_PARAMS', 'Usage: APITOKEN [REVOKE]');
  },
});
