import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/log.js';
import type { Db } from '../storage/db.js';
import type { IdentityService } from './types.js';

export interface IdentityDeps {
  config: Config;
  db: Db;
  log: Logger;
  now: () => number;
}

/** Placeholder wiring: replaced by the real resolver/verifier (identity issue, in progress). */
export function createIdentityService(_d: IdentityDeps): IdentityService {
  const no = (): never => { throw new Error('identity service not implemented yet'); };
  return {
    resolveDid: no, challengeKeys: no, atprotoKey: no, verifySignature: no, pdsEndpoint: no, handleOf: no,
    resolveHandle: no, getSession: no, createSession: no, deleteSession: no, verifyServiceAuth: no,
  };
}
