/**
 * Outbound HTTP for identity lookups (hardening.md D4): node:http/https rather than global fetch,
 * because only the `lookup` hook lets the SSRF guard see the address actually connected to.
 * Every request: SSRF-checked target, one deadline for the whole exchange, body ≤ 64 KiB,
 * redirects are errors (never followed), no connection reuse, and a slot from LookupLimits
 * (global / reserved / per host / per connection / per IP, hosts that timed out refused for a
 * while: #12 finding 6) taken before any socket is opened. Headers (which may carry tokens) never
 * appear in errors or logs.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { LookupLimits, type LookupRefusal, type LookupRequester } from './lookup-limits.js';
import { addressAllowed, classifyAddress, guardedLookup, isLocalhostName, isLoopbackHost } from './ssrf.js';
import { IdentityError } from './types.js';

export const MAX_RESPONSE_BYTES = 64 * 1024;
export const MAX_IN_FLIGHT = 64;

export interface HttpClientOptions {
  timeoutMs: number;
  allowLoopback: boolean;
  maxBytes?: number;
  /** without `limits`: a plain global cap (MAX_IN_FLIGHT), nothing else */
  maxInFlight?: number;
  /** the layered slots of #12 finding 6 (identity/lookup-limits.ts) */
  limits?: LookupLimits;
  /** told about every refused request (metrics, log) */
  onRefused?: (reason: LookupRefusal, host: string) => void;
  userAgent?: string;
}

export interface HttpRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** JSON-encoded by the caller */
  body?: string;
  /** the client this request is made for: per-connection and per-IP quotas */
  requester?: LookupRequester;
  /** may use the reserved share of the slots (only: refreshing a document already cached) */
  priority?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Parse a response body as JSON; malformed → IdentityError('bad-document'). */
export function parseJsonBody(body: Buffer, what: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new IdentityError('bad-document', `${what}: response is not valid JSON`);
  }
}

const REFUSALS: Record<LookupRefusal, (host: string) => string> = {
  'host-down': (h) => `${h}: timed out recently; not asked again for a while`,
  connection: () => 'an identity lookup for this connection is already in flight',
  ip: () => 'too many identity lookups in flight for this address',
  host: (h) => `${h}: too many identity requests in flight to this host`,
  global: () => 'too many outbound identity requests in flight',
  reserved: () => 'too many outbound identity requests in flight (the rest is reserved for known identities)',
};

export class HttpClient {
  private readonly maxBytes: number;
  readonly limits: LookupLimits;

  constructor(private readonly opts: HttpClientOptions) {
    this.maxBytes = opts.maxBytes ?? MAX_RESPONSE_BYTES;
    const max = opts.maxInFlight ?? MAX_IN_FLIGHT;
    this.limits = opts.limits ?? new LookupLimits({
      maxInFlight: max, reserved: 0, perHost: Infinity, perIp: Infinity, perConnection: Infinity, hostFailureTtlMs: 0, trustedHosts: [], now: Date.now,
    });
  }

  /**
   * Validate a target URL before any socket is opened: http(s) only, no credentials, IP literals
   * classified here (Node skips `lookup` for them), plain http only to loopback in test setups.
   */
  checkTarget(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new IdentityError('forbidden-host', 'not a valid URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new IdentityError('forbidden-host', `scheme ${url.protocol} not allowed`);
    if (url.username || url.password) throw new IdentityError('forbidden-host', 'credentials in URL not allowed');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (host === '') throw new IdentityError('forbidden-host', 'empty host');
    if (isIP(host)) {
      if (!addressAllowed(host, this.opts.allowLoopback)) throw new IdentityError('forbidden-host', `refusing to connect to ${host} (${classifyAddress(host)})`);
    } else if (isLocalhostName(host) && !this.opts.allowLoopback) {
      throw new IdentityError('forbidden-host', `refusing to connect to ${host}`);
    }
    if (url.protocol === 'http:' && !(this.opts.allowLoopback && isLoopbackHost(host))) {
      throw new IdentityError('forbidden-host', 'plain http is only allowed to loopback test hosts');
    }
    return url;
  }

  async request(rawUrl: string, req: HttpRequest = {}): Promise<HttpResponse> {
    const url = this.checkTarget(rawUrl);
    const host = url.host.toLowerCase();
    const release = this.acquire(host, req.requester, req.priority ?? false);
    try {
      return await this.send(url, host, req);
    } finally {
      release();
    }
  }

  /**
   * A slot for one outbound request to `host` (also the DNS step of a handle lookup: DNS_HOST),
   * or IdentityError('busy') when a quota refuses it (reported to `onRefused`). Call the
   * returned function exactly once when the request has ended.
   */
  acquire(host: string, requester: LookupRequester | undefined, priority = false): () => void {
    const refused = this.limits.tryAcquire(host, requester, priority);
    if (refused) {
      this.opts.onRefused?.(refused, host);
      throw new IdentityError('busy', REFUSALS[refused](host));
    }
    return () => this.limits.release(host, requester);
  }

  private send(url: URL, host: string, req: HttpRequest): Promise<HttpResponse> {
    const mod = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { 'user-agent': this.opts.userAgent ?? 'freeq-identity', accept: 'application/json, text/plain;q=0.5', ...req.headers };
    if (req.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      headers['content-length'] = String(Buffer.byteLength(req.body));
    }
    const where = `${url.protocol}//${url.host}${url.pathname}`;
    const tooBig = () => new IdentityError('bad-document', `${where}: response larger than ${this.maxBytes} bytes`);
    return new Promise<HttpResponse>((resolve, reject) => {
      let r: http.ClientRequest | undefined;
      let settled = false;
      const finish = (err: Error | undefined, res?: HttpResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          r?.destroy();
          reject(err);
        } else {
          resolve(res!);
        }
      };
      // one deadline for DNS + connect + TLS + headers + body
      const timer = setTimeout(() => {
        this.limits.hostTimedOut(host);
        finish(new IdentityError('network', `${where}: timed out after ${this.opts.timeoutMs} ms`));
      }, this.opts.timeoutMs);
      const onResponse = (res: http.IncomingMessage) => {
        const status = res.statusCode ?? 0;
        res.on('error', (e) => finish(toIdentityError(e, where)));
        res.on('aborted', () => finish(new IdentityError('network', `${where}: response aborted`)));
        if (status >= 300 && status < 400) {
          finish(new IdentityError('network', `${where}: redirect (${status}) not followed`));
          return;
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > this.maxBytes) {
          finish(tooBig());
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (settled) return;
          size += c.length;
          if (size > this.maxBytes) {
            finish(tooBig());
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => finish(undefined, { status, headers: res.headers, body: Buffer.concat(chunks) }));
      };
      try {
        r = mod.request({
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || undefined,
          path: `${url.pathname}${url.search}`,
          method: req.method ?? 'GET',
          headers,
          agent: false,
          lookup: guardedLookup(this.opts.allowLoopback),
        }, onResponse);
      } catch (e) {
        finish(toIdentityError(e, where));
        return;
      }
      r.on('error', (e) => finish(toIdentityError(e, where)));
      if (req.body !== undefined) r.end(req.body); else r.end();
    });
  }
}

function toIdentityError(e: unknown, where: string): IdentityError {
  if (e instanceof IdentityError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return new IdentityError('network', `${where}: ${code ?? (e instanceof Error ? e.message : 'request failed')}`);
}
