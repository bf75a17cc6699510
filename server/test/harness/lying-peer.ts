import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import { EndpointAddr, EndpointId } from '@number0/iroh/index.js';
import { irohStream, openIrohEndpoint, S2S_ALPN, type IrohEndpoint } from '../../src/federation/iroh-link.js';
import type { LinkStream } from '../../src/federation/link.js';
import { federationTlsIdentity, type FederationTlsIdentity } from '../../src/federation/cert.js';
import { sealEnvelope } from '../../src/federation/envelope.js';
import { encodeFrame, FrameDecoder } from '../../src/federation/frame.js';
import type { EnvelopeMessage } from '../../src/federation/messages.js';
import { peerIdOf } from '../../src/keys/peer-identity.js';
import { encodeHlc } from '../../src/state/hlc.js';
import { serverIdPrefix } from '../../src/state/ids.js';
import type { WireEvent, WireUser } from '../../src/state/wire.js';

/**
 * A scriptable fake federation peer (#14 "lying peer" tests): it speaks the S2S protocol itself
 * over TLS 1.3 or iroh (QUIC) with its own ed25519 key, so a test can send anything, honest or not: envelopes
 * with a forged origin, the wrong key, a bad signature, a replayed sequence number or a clock far
 * ahead, schema-breaking fields, oversized or malformed frames. Every frame the server sends is
 * kept in `frames`; pings are answered.
 */

/** a federation key: the 32-byte ed25519 seed and its peer id */
export interface PeerKey { seed: Buffer; id: string }

export function peerKey(): PeerKey {
  const seed = randomBytes(32);
  return { seed, id: peerIdOf(seed) };
}

/** a frame as received: a decoded JSON object (the server's messages) */
export type Frame = { type?: string } & Record<string, unknown>;

export interface SealOptions {
  seq?: number;
  hlc?: string;
  /** the envelope's origin (default: this peer's id) */
  origin?: string;
  /** the key that signs (default: this peer's) */
  seed?: Buffer;
  /** replace the signature after signing */
  sig?: string;
  /** the first sequence number of the origin's run (default: its first in this process, at most `seq`) */
  since?: number;
}

export type RegisteredUser = WireUser & { realname: string; signonAt: number };

/** an HLC stamp at wall-clock `ms` */
export const hlcAt = (ms: number): string => encodeHlc(ms, 0);

/** a frame by hand: `body` behind a length header that may lie (`announce`) */
export function rawFrame(body: string | Buffer, announce?: number): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const head = Buffer.alloc(4);
  head.writeUInt32BE(announce ?? b.length, 0);
  return Buffer.concat([head, b]);
}

// the server's replay guard remembers each origin across links: sequence numbers rise across
// every LyingPeer of the process (the clock in µs, as servers do)
let lastSeq = 0;
/**
 * the next sequence number of `origin`: one more than its last, as servers count (their numbers have
 * no gaps while linked: a gap makes the server hold an envelope for its predecessor)
 */
const seqs = new Map<string, number>();
/** the first sequence number of each origin in this process: its envelopes' `since` (one run, as a server that never restarts) */
const firsts = new Map<string, number>();
export const nextSeq = (origin: string): number => {
  const n = (seqs.get(origin) ?? Math.max(lastSeq, Date.now() * 1000)) + 1;
  seqs.set(origin, n);
  if (!firsts.has(origin)) firsts.set(origin, n);
  lastSeq = Math.max(lastSeq, n);
  return n;
};
let lastUid = 0;
const certs = new Map<string, Promise<FederationTlsIdentity>>();

export interface LyingPeerOptions {
  /** the server's TLS federation port (transport tls) */
  port?: number;
  host?: string;
  /** default tls */
  transport?: 'tls' | 'iroh';
  /** the server's iroh address, host:port (transport iroh) */
  irohAddr?: string;
  /** the server's peer id (transport iroh: QUIC dials by id) */
  serverId?: string;
  /** default: a fresh random key */
  key?: PeerKey;
  /** false: connect only (no hello / hello_ack); default true */
  handshake?: boolean;
  /** the server name in the hello */
  name?: string;
}

export class LyingPeer {
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  isClosed = false;
  /** the server's peer id, from its hello */
  serverId?: string;
  private readonly decoder = new FrameDecoder();
  private readonly waiters = new Set<() => void>();
  private token = 0;

  private constructor(readonly key: PeerKey, private readonly stream: LinkStream, private readonly endpoint?: IrohEndpoint) {
    stream.onData((chunk: Buffer) => {
      let got: unknown[] = [];
      try { got = this.decoder.push(chunk); } catch { /* the server never sends a bad frame; a test would see it missing */ }
      for (const f of got as Frame[]) {
        this.frames.push(f);
        if (f.type === 'hello' && typeof f.id === 'string') this.serverId = f.id;
        if (f.type === 'ping') this.send({ type: 'pong', token: f.token });
      }
      this.wake();
    });
    this.closed = new Promise((resolve) => stream.onClose(() => {
      this.isClosed = true;
      this.wake();
      resolve();
      void this.endpoint?.close();
    }));
  }

  get id(): string { return this.key.id; }

  /** Connect over TLS 1.3 (this key's certificate) or iroh (this key's endpoint); then phase 1 unless `handshake: false`. */
  static async connect(opts: LyingPeerOptions): Promise<LyingPeer> {
    const key = opts.key ?? peerKey();
    if (opts.transport === 'iroh') {
      const ep = await openIrohEndpoint({ seed: key.seed, relayMode: 'disabled', bindAddr: { host: '127.0.0.1', port: 0 } });
      try {
        const addr = new EndpointAddr(EndpointId.fromBytes([...Buffer.from(opts.serverId!, 'hex')]), null, [opts.irohAddr!]);
        const conn = await ep.inner.connect(addr, [...Buffer.from(S2S_ALPN)]);
        const bi = await conn.openBi();
        const peer = new LyingPeer(key, irohStream(bi.send, bi.recv, conn), ep);
        if (opts.handshake !== false) await peer.handshake(opts.name ?? 'liar.test');
        return peer;
      } catch (e) {
        await ep.close();
        throw e;
      }
    }
    let cert = certs.get(key.id);
    if (!cert) certs.set(key.id, cert = federationTlsIdentity(key.seed, key.id));
    const { cert: pem, key: pkcs8 } = await cert;
    const socket = tls.connect({
      host: opts.host ?? '127.0.0.1', port: opts.port, cert: pem, key: pkcs8, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3',
      rejectUnauthorized: false, checkServerIdentity: () => undefined,
    });
    socket.on('error', () => { /* 'close' follows */ });
    const peer = new LyingPeer(key, {
      write: (d) => { socket.write(d); }, get pending() { return socket.writableLength; }, end: () => { socket.end(); },
      destroy: () => { socket.destroy(); }, pause: () => { socket.pause(); }, resume: () => { socket.resume(); },
      onData: (cb) => { socket.on('data', cb); }, onClose: (cb) => { socket.once('close', cb); },
    });
    await new Promise<void>((resolve, reject) => { socket.once('secureConnect', () => resolve()); socket.once('error', reject); });
    if (opts.handshake !== false) await peer.handshake(opts.name ?? 'liar.test');
    return peer;
  }

  /** phase 1: hello and hello_ack (both as this key), then a ping round trip proves the link is up */
  async handshake(name = 'liar.test', id = this.key.id): Promise<void> {
    this.send({ type: 'hello', version: 1, id, name, caps: [] });
    this.send({ type: 'hello_ack', id });
    await this.sync();
  }

  send(msg: unknown): void { this.sendRaw(encodeFrame(msg)); }

  sendRaw(bytes: Buffer): void { if (!this.isClosed && bytes.length) this.stream.write(bytes); }

  /**
   * A ping answered: the server has handled everything sent before it (a link hands its messages
   * on in order, also while it is throttled). Throws if the link closes first.
   */
  async sync(timeoutMs = 3000): Promise<void> {
    const token = `t${++this.token}`;
    this.send({ type: 'ping', token });
    await this.waitFor((f) => f.type === 'pong' && f.token === token, timeoutMs);
  }

  /** the first frame (already received or to come) matching `pred` */
  async waitFor(pred: (f: Frame) => boolean, timeoutMs = 3000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (this.isClosed) throw new Error(`link closed (${this.refusalReason() ?? 'no refusal'}); frames: ${this.summary()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a frame; frames: ${this.summary()}`);
      await new Promise<void>((resolve) => {
        const done = (): void => { clearTimeout(t); this.waiters.delete(done); resolve(); };
        const t = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }

  /** wait for the server to close the link; its refusal's reason, if it sent one */
  async refused(timeoutMs = 3000): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.closed, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`link not closed in time; frames: ${this.summary()}`)), timeoutMs); })]);
    clearTimeout(timer);
    return this.refusalReason();
  }

  refusalReason(): string | undefined {
    const r = this.frames.find((f) => f.type === 'refusal');
    return r ? String(r.reason) : undefined;
  }

  /** the server's envelopes received so far (its burst, its users' events) */
  envelopes(): EnvelopeMessage[] {
    return this.frames.filter((f) => f.type === 'envelope') as unknown as EnvelopeMessage[];
  }

  /** an envelope for `payload`, honest by default; every part can be forged (SealOptions) */
  seal(payload: WireEvent, o: SealOptions = {}): EnvelopeMessage {
    const origin = o.origin ?? this.key.id;
    const seq = o.seq ?? nextSeq(origin);
    const env = sealEnvelope(o.seed ?? this.key.seed, origin, seq, o.hlc ?? hlcAt(Date.now()), payload, o.since ?? Math.min(firsts.get(origin) ?? seq, seq));
    return o.sig === undefined ? env : { ...env, sig: o.sig };
  }

  /** seal and send; returns the envelope (to replay it) */
  emit(payload: WireEvent, o: SealOptions = {}): EnvelopeMessage {
    const env = this.seal(payload, o);
    this.send(env);
    return env;
  }

  /** a user of this peer: a uid with its prefix (or any fields given) */
  user(nick: string, o: Partial<RegisteredUser> = {}): RegisteredUser {
    const uid = `${serverIdPrefix(this.key.id)}${(++lastUid).toString(36).toUpperCase().padStart(6, '0')}`;
    return { uid, nick, username: nick.toLowerCase().slice(0, 10), host: 'liar.example', realname: nick, signonAt: Date.now(), ...o };
  }

  /** introduce a user (register event); returns it */
  register(nick: string, o: Partial<RegisteredUser> = {}, seal: SealOptions = {}): RegisteredUser {
    const u = this.user(nick, o);
    this.emit({ kind: 'register', user: u }, seal);
    return u;
  }

  join(u: WireUser, channel: string, o: { status?: string; ts?: number } = {}, seal: SealOptions = {}): EnvelopeMessage {
    return this.emit({ kind: 'join', user: wire(u), channel, status: o.status ?? '', ts: o.ts ?? Date.now() }, seal);
  }

  /** a PRIVMSG (or NOTICE) from `u` to a channel or a nick */
  say(u: WireUser, target: string, text: string, o: { at?: number; msgid?: string; command?: 'PRIVMSG' | 'NOTICE'; tags?: Record<string, string> } = {}, seal: SealOptions = {}): EnvelopeMessage {
    return this.emit({
      kind: 'message', from: wire(u), command: o.command ?? 'PRIVMSG', target, ...(/^[#&]/.test(target) ? { channel: target } : {}),
      text, msgid: o.msgid ?? `liar-${randomBytes(6).toString('hex')}`, at: o.at ?? Date.now(), ...(o.tags ? { tags: o.tags } : {}),
    }, seal);
  }

  close(): void { this.stream.destroy(); }

  private wake(): void { for (const w of [...this.waiters]) w(); }

  private summary(): string {
    return this.frames.slice(-5).map((f) => JSON.stringify(f).slice(0, 160)).join(' | ') || '(none)';
  }
}

/** a user as events name it (no realname / signonAt) */
export function wire(u: WireUser): WireUser {
  return { uid: u.uid, nick: u.nick, username: u.username, host: u.host, ...(u.account !== undefined ? { account: u.account } : {}) };
}
