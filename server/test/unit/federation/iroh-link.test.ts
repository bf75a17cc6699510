import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EndpointAddr, EndpointId } from '@number0/iroh/index.js';
import { peerIdOf } from '../../../src/keys/peer-identity.js';
import { encodeFrame, FrameDecoder } from '../../../src/federation/frame.js';
import type { LinkStream } from '../../../src/federation/link.js';
import { side, type Side } from '../../harness/link-side.js';
import { until } from '../../harness/federation.js';
import { dialS2sIroh, irohErrorMessage, irohStream, listenS2sIroh, openIrohEndpoint, S2S_ALPN, type IrohEndpoint } from '../../../src/federation/iroh-link.js';

// #14: links over iroh QUIC. The endpoint's secret key is the federation key, so its id is the
// peer id and QUIC proves it; the listener checks its allowlist, the dialer dials by id, then
// hello / hello_ack as over TLS. Real endpoints on 127.0.0.1 with relays disabled (no network);
// the "lying peer" cases speak raw frames on a bi-stream of their own.

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// every endpoint is closed at the end: the process must then exit by itself (no handle left)
const endpoints: IrohEndpoint[] = [];
after(async () => { await Promise.all(endpoints.map((e) => e.close())); });

async function endpoint(seed = randomBytes(32)): Promise<IrohEndpoint> {
  const ep = await openIrohEndpoint({ seed, bindAddr: { host: '127.0.0.1', port: 0 }, relayMode: 'disabled' });
  endpoints.push(ep);
  return ep;
}
const addrOf = (ep: IrohEndpoint): string => ep.boundAddrs().find((a) => a.startsWith('127.0.0.1:'))!;

async function listener(s: Side, allowed: (id: string) => boolean, opts: { helloTimeoutMs?: number; handshakeTimeoutMs?: number; maxPendingBytes?: number } = {}): Promise<IrohEndpoint> {
  const ep = await endpoint();
  listenS2sIroh(ep, { self: { peerId: ep.peerId }, name: 'a.test', log: s.log, events: s.events, allowed, ...opts });
  return ep;
}

/** a bare connection + bi-stream to `to` (no link on our side) */
async function rawStream(from: IrohEndpoint, to: IrohEndpoint): Promise<LinkStream> {
  const conn = await from.inner.connect(new EndpointAddr(EndpointId.fromBytes([...Buffer.from(to.peerId, 'hex')]), null, [addrOf(to)]), [...Buffer.from(S2S_ALPN)]);
  const bi = await conn.openBi();
  return irohStream(bi.send, bi.recv, conn);
}

/** a raw iroh peer reading frames (the lying peer) */
async function rawPeer(to: IrohEndpoint, from?: IrohEndpoint): Promise<{ stream: LinkStream; frames: unknown[]; closed: Promise<void>; peerId: string }> {
  const ep = from ?? await endpoint();
  const stream = await rawStream(ep, to);
  const frames: unknown[] = [];
  const d = new FrameDecoder();
  stream.onData((c) => { try { frames.push(...d.push(c)); } catch { /* test reads what it got */ } });
  const closed = new Promise<void>((r) => stream.onClose(r));
  return { stream, frames, closed, peerId: ep.peerId };
}

describe('iroh endpoints', () => {
  test('the endpoint id is the federation key: the peer id keys/peer-identity.ts computes from the same seed', async () => {
    const seed = randomBytes(32);
    const ep = await endpoint(seed);
    assert.equal(ep.peerId, peerIdOf(seed));
    assert.equal(Buffer.from(ep.inner.id().toBytes()).toString('hex'), peerIdOf(seed));
    assert.ok(addrOf(ep), `bound on 127.0.0.1: ${ep.boundAddrs().join(', ')}`);
    assert.notEqual(addrOf(ep), '127.0.0.1:0');
    await assert.rejects(openIrohEndpoint({ seed: randomBytes(31), relayMode: 'disabled' }), /32-byte seed/);
  });

  test("the binding's errors are logged in one line: causes kept, Rust source paths and backtraces dropped", () => {
    const raw = new Error([
      'ConnectError::Connect (/root/.cargo/registry/src/iroh-1.0.2/src/endpoint.rs:1057:26)',
      'Caused by:',
      '    No addressing information available (/root/.cargo/registry/src/iroh-1.0.2/src/endpoint.rs:1127:27)',
      '',
      'Stack backtrace:',
      '   0: <anyhow::Error>::msg::<alloc::string::String>',
    ].join('\n'));
    assert.equal(irohErrorMessage(raw), 'ConnectError::Connect: No addressing information available');
    assert.equal(irohErrorMessage('closed by peer: bye (code 0)'), 'closed by peer: bye (code 0)');
  });
});

describe('S2S links over iroh', () => {
  test('dial by id + allowlisted listener: hello / hello_ack both ways, 2,000 pings each way arrive in order, closing one side closes the other', async () => {
    const a = side(), b = side();
    const A = await listener(a, (id) => id === B.peerId);
    const B = await endpoint();
    const out = await dialS2sIroh(B, { self: { peerId: B.peerId }, name: 'b.test', log: b.log, events: b.events, expect: A.peerId, addrs: [addrOf(A)] });
    await until(() => a.ups.length === 1 && b.ups.length === 1, 'both links up');
    const inn = a.ups[0]!;
    assert.equal(inn.peerId, B.peerId);
    assert.equal(inn.peerName, 'b.test');
    assert.equal(inn.direction, 'in');
    assert.equal(out.peerId, A.peerId);
    assert.equal(out.peerName, 'a.test');
    assert.ok(a.lines.some((l) => l.msg === 'S2S link up' && l.obj.peer === B.peerId));

    const N = 2000;
    for (let i = 0; i < N; i++) { out.send({ type: 'ping', token: `b${i}` }); inn.send({ type: 'ping', token: `a${i}` }); }
    await until(() => a.msgs.length === N && b.msgs.length === N, 'all pings across');
    assert.deepEqual(a.msgs.map((m) => (m as { token: string }).token), Array.from({ length: N }, (_, i) => `b${i}`));
    assert.deepEqual(b.msgs.map((m) => (m as { token: string }).token), Array.from({ length: N }, (_, i) => `a${i}`));

    out.close('test over');
    await until(() => a.closes.length === 1 && b.closes.length === 1, 'closed on both sides');
    assert.deepEqual(b.closes, ['test over']);
    assert.deepEqual(a.closes, ['connection closed']);
  });

  test('a peer not in the allowlist gets a refusal, never an ack, and the listener logs Rejecting S2S connection', async () => {
    const a = side(), b = side();
    const A = await listener(a, () => false);
    const B = await endpoint();
    const out = await dialS2sIroh(B, { self: { peerId: B.peerId }, name: 'b.test', log: b.log, events: b.events, expect: A.peerId, addrs: [addrOf(A)] });
    await until(() => b.closes.length === 1, 'dialer closed');
    assert.deepEqual(b.closes, ['refused by peer: not in the allowlist']);
    assert.equal(out.up, false);
    assert.ok(a.lines.some((l) => l.msg === 'Rejecting S2S connection' && l.obj.peer === B.peerId && l.obj.reason === 'not in the allowlist' && /^127\.0\.0\.1:\d+$/.test(String(l.obj.remote))));
    assert.equal(a.ups.length, 0);
    assert.equal(b.ups.length, 0);

    // a peer's stream reaches the listener with its first bytes: a raw peer says hello too
    const p = await rawPeer(A);
    p.stream.write(encodeFrame({ type: 'hello', version: 1, id: p.peerId, name: 'raw', caps: [] }));
    await p.closed;
    assert.deepEqual(p.frames, [{ type: 'refusal', reason: 'not in the allowlist' }]);
  });

  test('dialing an address where another server answers fails: the id we expect is not the one there', async () => {
    const a = side(), b = side();
    const A = await listener(a, () => true);
    const [B, C] = await Promise.all([endpoint(), endpoint()]);
    await assert.rejects(dialS2sIroh(B, { self: { peerId: B.peerId }, name: 'b.test', log: b.log, events: b.events, expect: C.peerId, addrs: [addrOf(A)] }), /invalid peer certificate/); // QUIC's handshake: A's key is not C's
    assert.equal(a.ups.length, 0);
    assert.equal(b.ups.length, 0);
    await assert.rejects(dialS2sIroh(B, { self: { peerId: B.peerId }, name: 'b.test', log: b.log, events: b.events, expect: 'nope' }), /not a peer id/);
  });

  test('lying peer: a hello claiming another id than its endpoint → refusal, no ack, link never up', async () => {
    const a = side();
    const A = await listener(a, () => true);
    const C = await endpoint();
    const p = await rawPeer(A);
    p.stream.write(encodeFrame({ type: 'hello', version: 1, id: C.peerId, name: 'liar', caps: [] }));
    await p.closed;
    assert.deepEqual(p.frames.map((f) => (f as { type: string }).type), ['hello', 'refusal']);
    assert.equal((p.frames[1] as { reason: string }).reason, 'hello id does not match the certificate');
    assert.ok(a.lines.some((l) => l.msg === 'Rejecting S2S connection' && l.obj.peer === p.peerId));
    assert.equal(a.ups.length, 0);
  });

  test('lying peer: a frame over 1 MiB, an envelope before the link is up, a second hello → refusal and close', async () => {
    const a = side();
    const A = await listener(a, () => true);
    const from = await endpoint();
    const hello = { type: 'hello', version: 1, id: from.peerId, name: 'b', caps: [] };
    const big = Buffer.alloc(4);
    big.writeUInt32BE(1024 * 1024 + 1, 0);
    const cases: [Buffer, RegExp][] = [
      [Buffer.concat([big, Buffer.alloc(64 * 1024, 0x20)]), /^bad frame: frame of 1048577 bytes announced/],
      [encodeFrame({ type: 'ping', token: 'early' }), /^ping before the link is up$/],
      [Buffer.concat([encodeFrame(hello), encodeFrame(hello)]), /^second hello$/],
    ];
    for (const [bytes, reason] of cases) {
      const p = await rawPeer(A, from);
      p.stream.write(bytes);
      await p.closed;
      const refusal = p.frames.find((f) => (f as { type: string }).type === 'refusal') as { reason: string } | undefined;
      assert.ok(refusal, `refused: ${reason}`);
      assert.match(refusal.reason, reason);
    }
    assert.equal(a.ups.length, 0);
    assert.equal(a.lines.filter((l) => l.msg === 'Rejecting S2S connection').length, cases.length);
  });

  test('a dialer that never opens its stream is cut after the handshake timeout; one that never says hello, after the hello timeout', async () => {
    const a = side();
    const A = await listener(a, () => true, { handshakeTimeoutMs: 200, helloTimeoutMs: 200 });
    const B = await endpoint();
    const conn = await B.inner.connect(new EndpointAddr(EndpointId.fromBytes(A.inner.id().toBytes()), null, [addrOf(A)]), [...Buffer.from(S2S_ALPN)]);
    const t0 = Date.now();
    assert.match(await conn.closed(), /no stream in time/);
    assert.ok(Date.now() - t0 < 3000);

    const p = await rawPeer(A);
    p.stream.write(Buffer.alloc(1)); // a stream exists once its first byte crosses; not a whole frame
    await p.closed;
    assert.ok(a.closes.includes('no hello in time'));
  });

  test('a peer that stops reading is closed once maxPendingBytes wait for it (sendq), not buffered without end', async () => {
    const a = side();
    const A = await listener(a, () => true, { maxPendingBytes: 256 * 1024 });
    const p = await rawPeer(A);
    p.stream.write(encodeFrame({ type: 'hello', version: 1, id: p.peerId, name: 'b', caps: [] }));
    p.stream.write(encodeFrame({ type: 'hello_ack', id: p.peerId }));
    await until(() => a.ups.length === 1, 'up');
    p.stream.pause(); // reads nothing from now on: QUIC flow control stops the writer
    const link = a.ups[0]!;
    for (let i = 0; i < 1_000_000 && a.closes.length === 0; i++) {
      link.send({ type: 'pong', token: `${i}`.padStart(32, '0') });
      if (i % 1000 === 0) await new Promise((r) => setImmediate(r)); // let the writes go out
    }
    await until(() => a.closes.includes('sendq exceeded'), 'closed for sendq');
    assert.ok(a.lines.some((l) => l.msg === 'S2S link closed: the peer is not reading (sendq)'));
    await p.closed;
  });

  test('closing an endpoint closes its links on both sides', async () => {
    const a = side(), b = side();
    const A = await listener(a, () => true);
    const B = await endpoint();
    await dialS2sIroh(B, { self: { peerId: B.peerId }, name: 'b.test', log: b.log, events: b.events, expect: A.peerId, addrs: [addrOf(A)] });
    await until(() => a.ups.length === 1 && b.ups.length === 1, 'both links up');
    await B.close();
    await until(() => a.closes.length === 1 && b.closes.length === 1, 'closed on both sides');
  });
});

describe('irohStream', () => {
  /** a stream pair over one connection between two endpoints without listeners */
  async function pair(): Promise<[LinkStream, LinkStream]> {
    const [A, B] = await Promise.all([endpoint(), endpoint()]);
    const accepted = (async () => {
      const inc = await A.inner.acceptNext();
      const conn = await (await inc!.accept()).connect();
      const bi = await conn.acceptBi();
      return irohStream(bi.send, bi.recv, conn);
    })();
    const s = await rawStream(B, A);
    s.write(Buffer.from('x')); // a stream reaches the peer with its first byte
    const r = await accepted;
    await until(() => s.pending === 0, 'first byte taken'); // its write resolves after the peer has it
    return [s, r];
  }

  test('pause() stops delivery, resume() restarts it where it stopped; pending counts bytes the binding has not taken', async () => {
    const [s, r] = await pair();
    r.pause();
    const got: Buffer[] = [];
    r.onData((c) => got.push(c));
    const data = randomBytes(300_000);
    for (let i = 0; i < data.length; i += 1000) s.write(data.subarray(i, i + 1000));
    assert.equal(s.pending, data.length);
    await until(() => s.pending === 0, 'writes taken by the binding (QUIC window)');
    await sleep(200);
    assert.equal(got.length, 0, 'nothing delivered while paused');
    r.resume();
    await until(() => Buffer.concat(got).length === data.length + 1, 'all delivered after resume');
    assert.ok(Buffer.concat(got).equals(Buffer.concat([Buffer.from('x'), data])));

    // paused again mid-stream: at most the chunk already being read is held, none delivered
    r.pause();
    const before = got.length;
    s.write(Buffer.from('more'));
    await sleep(100);
    assert.equal(got.length, before);
    r.resume();
    await until(() => Buffer.concat(got).subarray(-4).toString() === 'more', 'delivered after the second resume');
  });

  test('end() delivers what is queued, then both sides see onClose once; destroy() closes at once', async () => {
    const [s, r] = await pair();
    const got: Buffer[] = [];
    r.onData((c) => got.push(c));
    let sClosed = 0, rClosed = 0;
    s.onClose(() => sClosed++);
    r.onClose(() => rClosed++);
    const data = randomBytes(100_000);
    s.write(data);
    s.end();
    s.write(Buffer.from('after end: dropped'));
    await until(() => sClosed === 1 && rClosed === 1, 'closed on both sides');
    assert.ok(Buffer.concat(got).equals(Buffer.concat([Buffer.from('x'), data])));
    s.destroy();
    s.end();
    await sleep(50);
    assert.equal(sClosed, 1);
    assert.equal(rClosed, 1);

    const [s2, r2] = await pair();
    let r2Closed = 0, s2Closed = 0;
    r2.onClose(() => r2Closed++);
    s2.onClose(() => s2Closed++);
    s2.destroy();
    s2.destroy();
    await until(() => s2Closed === 1 && r2Closed === 1, 'closed here and at the peer');
    await sleep(50);
    assert.equal(s2Closed, 1);
  });
});
