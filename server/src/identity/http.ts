/**
 * Outbound HTTP for identity lookups (hardening.md D4): node:http/https rather than global fetch,
 * because only the `lookup` hook lets the SSRF guard see the address actually connected to.
 * Every request: SSRF-checked target, one deadline for the whole exchange, body ≤ 64 KiB,
 * redirects are errors (never followed), no connection reuse, ≤ 64 requests in flight.
 * Headers (which may carry tokens) never appear in errors or logs.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { addressAllowed, classifyAddress, guardedLookup, isLocalhostName, isLoopbackHost } from './ssrf.js';
import { IdentityError } from './types.js';

export const MAX_RESPONSE_BYTES = 64 * 1024;
export const MAX_IN_FLIGHT = 64;

export interface HttpClientOptions {
  timeoutMs: number;
  allowLoopback: boolean;
  maxBytes?: number;
  maxInFlight?: number;
  userAgent?: string;
}

export interface HttpRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** JSON-encoded by the caller */
  body?: string;
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

export class HttpClient {
  private inFlight = 0;
  private readonly maxBytes: number;
  private readonly maxInFlight: number;

  constructor(private readonly opts: HttpClientOptions) {
    this.maxBytes = opts.maxBytes ?? MAX_RESPONSE_BYTES;
    this.maxInFlight = opts.maxInFlight ?? MAX_IN_FLIGHT;
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
    if (this.inFlight >= this.maxInFlight) throw new IdentityError('network', 'too many outbound identity requests in flight');
    this.inFlight++;
    try {
      return await this.send(url, req);
    } finally {
      this.inFlight--;
    }
  }

  private send(url: URL, req: HttpRequest): Promise<HttpResponse> {
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
      const timer = setTimeout(() => finish(new IdentityError('network', `${where}: timed out after ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
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
