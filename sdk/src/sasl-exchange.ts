/**
 * The client side of one SASL exchange (IRCv3 sasl-3.1 / 3.2): PLAIN and ATPROTO-CHALLENGE with
 * the methods crypto, pds-session, pds-oauth (with the DPOP_NONCE round trip), service-auth and web-token.
 * The client (client.ts) feeds it AUTHENTICATE lines, the SASL numerics and NOTICEs, and learns how
 * the exchange ended through `done`; registration (CAP END, requireSasl) stays the client's.
 * No I/O of its own and no Node built-ins (it runs in browsers too).
 */
import {
  AuthenticateAssembler, base64UrlEncode, chunkAuthenticate, decodeChallenge, encodeResponse, plainPayload,
  type AtprotoChallenge, type AtprotoResponse,
} from './sasl.js';
import type { IrcMessage } from './message.js';

type MaybePromise<T> = T | Promise<T>;

/** SASL PLAIN: a Bluesky handle or DID and an app password (never the main password). */
export interface PlainSasl {
  mechanism: 'PLAIN';
  identifier: string;
  password: string;
  /** authorization identity; default empty (= the identifier) */
  authzid?: string;
}

interface AtprotoBase {
  mechanism: 'ATPROTO-CHALLENGE';
  /** the DID to log in as */
  did: string;
}

/** `crypto`: sign the raw challenge bytes with a key listed in the DID document. */
export interface CryptoSasl extends AtprotoBase {
  method: 'crypto';
  sign: (challengeBytes: Uint8Array) => MaybePromise<Uint8Array>;
}

/** `pds-session`: an access JWT of an (app-password) session on the user's PDS. */
export interface PdsSessionSasl extends AtprotoBase {
  method: 'pds-session';
  accessJwt: string;
  /** the PDS URL; the server checks it against the DID document */
  pdsUrl?: string;
}

/** `pds-oauth`: a DPoP-bound OAuth access token and a proof maker for getSession on the PDS. */
export interface PdsOAuthSasl extends AtprotoBase {
  method: 'pds-oauth';
  accessToken: string;
  pdsUrl: string;
  /**
   * Make a fresh DPoP proof for `GET <pdsUrl>/xrpc/com.atproto.server.getSession` bound to the
   * access token (`ath`), with `nonce` when the server relayed one (`DPOP_NONCE`).
   */
  dpopProof: (nonce?: string) => MaybePromise<string>;
}

/** `service-auth`: a service-auth JWT from the PDS (`getServiceAuth`, aud = the IRC server's DID). */
export interface ServiceAuthSasl extends AtprotoBase {
  method: 'service-auth';
  /** called once per challenge: tokens are single use */
  getToken: () => MaybePromise<string>;
}

/**
 * `web-token`: a single-use login token the server's web login issued (`POST /auth/token` after a
 * Bluesky login, docs/identity.md). Called once per challenge, so each (re)connection fetches a fresh one.
 */
export interface WebTokenSasl extends AtprotoBase {
  method: 'web-token';
  getToken: () => MaybePromise<string>;
}

export type AtprotoSasl = CryptoSasl | PdsSessionSasl | PdsOAuthSasl | ServiceAuthSasl | WebTokenSasl;
export type SaslConfig = PlainSasl | AtprotoSasl;

/** How an exchange ended: logged in (the DID from 900), already logged in (907), or failed. */
export type SaslOutcome =
  | { kind: 'succeeded'; did: string | undefined }
  | { kind: 'already' }
  | { kind: 'failed'; numeric: string; text: string };

export type SaslState = 'idle' | 'running' | 'done';

export class SaslExchange {
  state: SaslState = 'idle';
  private timer: ReturnType<typeof setTimeout> | undefined;
  private mechsTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly assembler = new AuthenticateAssembler();
  /** increases with every challenge, so a slow signer never answers an outdated challenge */
  private challengeSeq = 0;
  private dpopNonce: string | undefined;
  private pendingDid: string | undefined;

  constructor(
    private readonly config: SaslConfig | undefined,
    /** give up on an unanswered exchange after this many ms (`AUTHENTICATE *`) */
    private readonly timeoutMs: number,
    private readonly send: (command: string, ...params: string[]) => void,
    private readonly done: (outcome: SaslOutcome) => void,
  ) {}

  /** a new connection: nothing running */
  reset(): void {
    this.clearTimers();
    this.state = 'idle';
  }

  /** `AUTHENTICATE <mechanism>` (after the server acknowledged the sasl capability) */
  start(): void {
    const sasl = this.config;
    if (!sasl) return;
    this.state = 'running';
    this.assembler.reset();
    this.timer = setTimeout(() => {
      if (this.state === 'running') this.send('AUTHENTICATE', '*');
    }, this.timeoutMs);
    this.send('AUTHENTICATE', sasl.mechanism);
  }

  /** A line from the server: AUTHENTICATE, the SASL numerics, a DPOP_NONCE notice; others are ignored. */
  onLine(msg: IrcMessage): void {
    const p = msg.params;
    switch (msg.command) {
      case 'AUTHENTICATE':
        this.onAuthenticate(p[0] ?? '');
        break;
      case '900':
        if (p[2]) this.pendingDid = p[2];
        break;
      case '903':
        if (this.state === 'done') return;
        this.finish();
        this.done({ kind: 'succeeded', did: this.pendingDid });
        break;
      case '907':
        // already authenticated: nothing more to do for this exchange
        this.finish();
        this.done({ kind: 'already' });
        break;
      case '902': case '904': case '905': case '906':
        this.fail(msg.command, p[p.length - 1] ?? '');
        break;
      case '908':
        // the mechanism list normally precedes 904; fail on 908 only if no 904 follows promptly
        if (this.state === 'running') {
          const text = `${p[1] ?? ''} ${p[p.length - 1] ?? ''}`.trim();
          this.mechsTimer ??= setTimeout(() => this.fail('908', text), 250);
        }
        break;
      case 'NOTICE': {
        const m = /^DPOP_NONCE (\S+)$/.exec(p[1] ?? '');
        if (m && this.state === 'running') this.dpopNonce = m[1];
        break;
      }
      default:
        break;
    }
  }

  /** The exchange failed (a numeric, or `client` for a local failure); once per exchange. */
  fail(numeric: string, text: string): void {
    if (this.state === 'done') return;
    this.clearTimers();
    this.state = 'done';
    this.done({ kind: 'failed', numeric, text });
  }

  clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.mechsTimer) clearTimeout(this.mechsTimer);
    this.timer = this.mechsTimer = undefined;
  }

  private finish(): void {
    this.clearTimers();
    this.state = 'done';
  }

  private onAuthenticate(param: string): void {
    const sasl = this.config;
    if (this.state !== 'running' || !sasl) return;
    const payload = this.assembler.push(param);
    if (payload === undefined) return;
    if (sasl.mechanism === 'PLAIN') {
      this.sendPayload(plainPayload(sasl.identifier, sasl.password, sasl.authzid));
      return;
    }
    let challenge: AtprotoChallenge;
    try {
      challenge = decodeChallenge(payload);
    } catch (err) {
      this.send('AUTHENTICATE', '*');
      this.fail('client', `bad challenge from the server: ${(err as Error).message}`);
      return;
    }
    const seq = ++this.challengeSeq;
    this.buildResponse(sasl, challenge).then(
      (r) => {
        if (seq !== this.challengeSeq || this.state !== 'running') return;
        this.sendPayload(encodeResponse(r));
      },
      (err: unknown) => {
        if (seq !== this.challengeSeq || this.state !== 'running') return;
        this.send('AUTHENTICATE', '*');
        this.fail('client', `could not answer the challenge: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  }

  private async buildResponse(sasl: AtprotoSasl, ch: AtprotoChallenge): Promise<AtprotoResponse> {
    const base = { did: sasl.did, challenge_nonce: ch.nonce };
    switch (sasl.method) {
      case 'crypto': {
        const sig = await sasl.sign(ch.bytes);
        return { ...base, method: 'crypto', signature: base64UrlEncode(sig) };
      }
      case 'pds-session': {
        const r: AtprotoResponse = { ...base, method: 'pds-session', signature: sasl.accessJwt };
        if (sasl.pdsUrl !== undefined) r.pds_url = sasl.pdsUrl;
        return r;
      }
      case 'pds-oauth': {
        const nonce = this.dpopNonce;
        const proof = await sasl.dpopProof(nonce);
        return { ...base, method: 'pds-oauth', signature: sasl.accessToken, pds_url: sasl.pdsUrl, dpop_proof: proof };
      }
      case 'service-auth':
        return { ...base, method: 'service-auth', signature: await sasl.getToken() };
      case 'web-token':
        return { ...base, method: 'web-token', signature: await sasl.getToken() };
      default: {
        const never: never = sasl;
        throw new Error(`unknown method ${String((never as { method: unknown }).method)}`);
      }
    }
  }

  private sendPayload(encoded: string): void {
    for (const chunk of chunkAuthenticate(encoded)) this.send('AUTHENTICATE', chunk);
  }
}
