import type { TestServer } from './server.js';

/**
 * Expected cloaks for exact-line assertions (#12: cloaks are keyed hashes, so a test cannot write
 * them as literals; the key is per data directory). What the cloaks themselves look like is
 * asserted in conformance/cloaks.test.ts and unit/state/cloak.test.ts.
 */
export function guestCloak(srv: TestServer, ip = '127.0.0.1'): string {
  return srv.server.context.ops.cloaks.guest(ip);
}

export function didCloak(srv: TestServer, did: string): string {
  return srv.server.context.ops.cloaks.did(did);
}
