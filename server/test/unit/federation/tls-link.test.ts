import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { ed25519 } from '@noble/curves/ed25519.js';
import { generate } from 'selfsigned';
import { federationTlsIdentity, peerIdOfCertificate, type FederationTlsIdentity } from '../../../src/federation/cert.js';
import { encodeFrame, FrameDecoder } from '../../../src/federation/frame.js';
import { dialS2sTls, listenS2sTls } from '../../../src/federation/tls-link.js';
import { side, type Side } from '../../harness/link-side.js';
import { until } from '../../harness/federation.js';

// #14: TLS 1.3 links with mutual authentication by federation key (self-signed ed25519
// certificates, no CA), the dialer pinning the expected id, the listener checking its allowlist,
// then hello / hello_ack. Real sockets on 127.0.0.1; the "lying peer" cases speak raw TLS.

async function identity(): Promise<FederationTlsIdentity> {
  const seed = randomBytes(32);
  return federationTlsIdentity(seed, Buffer.from(ed25519.getPublicKey(seed)).toString('hex'));
}


const servers: tls.Server[] = [];
after(() => { for (const s of servers) s.close(); });

async function listener(self: FederationTlsIdentity, s: Side, allowed: (id: string) => boolean, helloTimeoutMs?: number): Promise<number> {
  const srv = listenS2sTls({ self, name: 'a.test', log: s.log, events: s.events, allowed, helloTimeoutMs });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as AddressInfo).port;
}

/** a raw TLS client with any certificate, reading frames (the lying peer) */
async function rawPeer(port: number, cert: { cert: string; key: string }): Promise<{ socket: tls.TLSSocket; frames: unknown[]; closed: Promise<void> }> {
  const socket = tls.connect({ host: '127.0.0.1', port, cert: cert.cert, key: cert.key, rejectUnauthorized: false, minVersion: 'TLSv1.3' });
  const frames: unknown[] = [];
  const d = new FrameDecoder();
  socket.on('data', (c: Buffer) => { try { frames.push(...d.push(c)); } catch { /* test reads what it got */ } });
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  await new Promise<void>((r, j) => { socket.once('secureConnect', () => r()); socket.once('error', j); });
  return { socket, frames, closed };
}

describe('federation TLS identity', () => {
  test('the certificate is self-signed over the federation key: its ed25519 key is the peer id', async () => {
    const id = await identity();
    const c = new X509Certificate(id.cert);
    assert.equal(c.subject, `CN=${id.peerId}`);
    assert.equal(peerIdOfCertificate(c.raw), id.peerId);
    assert.equal(c.verify(c.publicKey), true);
    assert.ok(!id.cert.includes('PRIVATE'));
  });
});

describe('S2S links over TLS', () => {
  test('pinned dial + allowlisted listener: hello / hello_ack both ways, then envelopes flow; each side knows the other by its key', async () => {
    const [A, B] = await Promise.all([identity(), identity()]);
    const a = side(), b = side();
    const port = await listener(A, a, (id) => id === B.peerId);
    const out = await dialS2sTls({ self: B, name: 'b.test', log: b.log, events: b.events, host: '127.0.0.1', port, expect: A.peerId });
    await until(() => a.ups.length === 1 && b.ups.length === 1, 'both links up');
    assert.equal(a.ups[0]!.peerId, B.peerId);
    assert.equal(a.ups[0]!.peerName, 'b.test');
    assert.equal(out.peerId, A.peerId);
    assert.equal(out.peerName, 'a.test');
    out.send({ type: 'ping', token: 't1' });
    await until(() => a.msgs.length === 1, 'ping across');
    assert.deepEqual(a.msgs[0], { type: 'ping', token: 't1' });
    assert.ok(a.lines.some((l) => l.msg === 'S2S link up' && l.obj.peer === B.peerId));
    out.close('test over');
    await until(() => a.closes.length === 1, 'closed on both sides');
  });

  test('the dialer refuses a listener whose key is not the pinned id (a different server at that address)', async () => {
    const [A, B, C] = await Promise.all([identity(), identity(), identity()]);
    const a = side(), b = side();
    const port = await listener(A, a, () => true);
    await assert.rejects(dialS2sTls({ self: B, name: 'b.test', log: b.log, events: b.events, host: '127.0.0.1', port, expect: C.peerId }), /not .*pinned|not [0-9a-f]{64}/);
    assert.ok(b.lines.some((l) => l.msg === 'Rejecting S2S connection' && l.obj.peer === A.peerId && l.obj.expected === C.peerId));
    assert.equal(b.ups.length, 0);
  });

  test('a peer not in the allowlist gets a refusal, never an ack, and the listener logs Rejecting S2S connection', async () => {
    const [A, B] = await Promise.all([identity(), identity()]);
    const a = side();
    const port = await listener(A, a, () => false);
    const p = await rawPeer(port, B);
    await p.closed;
    assert.deepEqual(p.frames, [{ type: 'refusal', reason: 'not in the allowlist' }]);
    assert.ok(a.lines.some((l) => l.msg === 'Rejecting S2S connection' && l.obj.peer === B.peerId && l.obj.reason === 'not in the allowlist'));
    assert.equal(a.ups.length, 0);
  });

  test('a certificate over another key type (ECDSA) is refused', async () => {
    const A = await identity();
    const a = side();
    const port = await listener(A, a, () => true);
    const pems = await generate([{ name: 'commonName', value: 'liar' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
    const p = await rawPeer(port, { cert: pems.cert, key: pems.private });
    await p.closed;
    assert.deepEqual(p.frames, [{ type: 'refusal', reason: 'no ed25519 certificate' }]);
  });

  test('lying peer: a hello claiming another id than its certificate → refusal, no ack, link never up', async () => {
    const [A, B, C] = await Promise.all([identity(), identity(), identity()]);
    const a = side();
    const port = await listener(A, a, (id) => id === B.peerId);
    const p = await rawPeer(port, B);
    p.socket.write(encodeFrame({ type: 'hello', version: 1, id: C.peerId, name: 'liar', caps: [] }));
    await p.closed;
    const types = p.frames.map((f) => (f as { type: string }).type);
    assert.deepEqual(types, ['hello', 'refusal']);
    assert.equal((p.frames[1] as { reason: string }).reason, 'hello id does not match the certificate');
    assert.equal(a.ups.length, 0);
  });

  test('lying peer: an envelope before the link is up, a 2 MiB frame, CR/LF in the hello, a second hello → refusal and close', async () => {
    const [A, B] = await Promise.all([identity(), identity()]);
    const a = side();
    const port = await listener(A, a, () => true);
    const hello = { type: 'hello', version: 1, id: B.peerId, name: 'b', caps: [] };
    const cases: [Buffer, RegExp][] = [
      [encodeFrame({ type: 'ping', token: 'early' }), /^ping before the link is up$/],
      [(() => { const h = Buffer.alloc(4); h.writeUInt32BE(2 * 1024 * 1024, 0); return h; })(), /^bad frame: frame of 2097152 bytes announced/],
      [encodeFrame({ ...hello, name: 'b\r\nPRIVMSG #x :hi' }), /^invalid message: name: /],
      [Buffer.concat([encodeFrame(hello), encodeFrame(hello)]), /^second hello$/],
    ];
    for (const [bytes, reason] of cases) {
      const p = await rawPeer(port, B);
      p.socket.write(bytes);
      await p.closed;
      const refusal = p.frames.find((f) => (f as { type: string }).type === 'refusal') as { reason: string } | undefined;
      assert.ok(refusal, `refused: ${reason}`);
      assert.match(refusal.reason, reason);
    }
    assert.equal(a.ups.length, 0);
    assert.equal(a.lines.filter((l) => l.msg === 'Rejecting S2S connection').length, cases.length);
  });

  test('a peer that stops reading is closed once maxPendingBytes wait for it, not buffered without end', async () => {
    const [A, B] = await Promise.all([identity(), identity()]);
    const a = side();
    const srv = listenS2sTls({ self: A, name: 'a.test', log: a.log, events: a.events, allowed: () => true, maxPendingBytes: 256 * 1024 });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const p = await rawPeer((srv.address() as AddressInfo).port, B);
    p.socket.write(encodeFrame({ type: 'hello', version: 1, id: B.peerId, name: 'b', caps: [] }));
    p.socket.write(encodeFrame({ type: 'hello_ack', id: B.peerId }));
    await until(() => a.ups.length === 1, 'up');
    p.socket.pause(); // reads nothing from now on
    const link = a.ups[0]!;
    for (let i = 0; i < 1_000_000 && a.closes.length === 0; i++) {
      link.send({ type: 'pong', token: `${i}`.padStart(32, '0') });
      if (i % 1000 === 0) await new Promise((r) => setImmediate(r)); // let the socket flush what the kernel takes
    }
    await until(() => a.closes.includes('sendq exceeded'), 'closed for sendq');
    assert.ok(a.lines.some((l) => l.msg === 'S2S link closed: the peer is not reading (sendq)'));
    p.socket.destroy();
  });

  test('a peer that never says hello is closed after the hello timeout', async () => {
    const [A, B] = await Promise.all([identity(), identity()]);
    const a = side();
    const port = await listener(A, a, () => true, 200);
    const p = await rawPeer(port, B);
    await p.closed;
    assert.ok(a.closes.includes('no hello in time'));
  });
});
