import type { Config } from '../../config/schema.js';
import { SaslBuffer } from './buffer.js';
import { ChallengeStore, type Clock } from './challenge-store.js';

export type SaslMechanism = 'ATPROTO-CHALLENGE' | 'PLAIN';

/** failed attempts (904) after which the connection is closed (hardening.md D2) */
export const MAX_SASL_FAILURES = 3;
/** DPoP nonce round trips allowed in one ATPROTO-CHALLENGE exchange; one more is a failure */
export const MAX_DPOP_NONCE_RETRIES = 3;

/**
 * SASL state of one connection. Kept on the Session (a session slot, commands/authenticate.ts),
 * so it (and any outstanding challenge) goes away with the connection: nothing to prune, nothing
 * that outlives it, and a challenge cannot be answered from another connection.
 */
export class SaslState {
  /** mechanism of the exchange in progress, undefined when none */
  mechanism?: SaslMechanism;
  readonly buffer: SaslBuffer;
  readonly challenges: ChallengeStore;
  /** 904s counted against this connection */
  failures = 0;
  /** DPoP nonce round trips in the current exchange */
  nonceRetries = 0;

  constructor(config: Config, clock: Clock) {
    this.buffer = new SaslBuffer(config.saslMaxBytes);
    this.challenges = new ChallengeStore(clock, config.challengeTimeoutSecs * 1000);
  }

  get inProgress(): boolean { return this.mechanism !== undefined; }

  start(m: SaslMechanism): void {
    this.reset();
    this.mechanism = m;
  }

  /** end the exchange: partial data and any outstanding challenge are dropped */
  reset(): void {
    this.mechanism = undefined;
    this.buffer.reset();
    this.challenges.discard();
    this.nonceRetries = 0;
  }
}
