import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, FrameDecoder, FrameError, MAX_FRAME_BYTES } from '../../../src/federation/frame.js';

// #14: S2S frames: 4-byte length + UTF-8 JSON, at most 1 MiB; a larger frame is refused from its header.

describe('S2S framing', () => {
  test('round trip, several frames in one chunk and one frame over many chunks (byte by byte)', () => {
    const msgs = [{ type: 'ping', token: 'a' }, { type: 'pong', token: 'é✓' }, { n: [1, 2, 3] }];
    const wire = Buffer.concat(msgs.map(encodeFrame));
    assert.deepEqual(new FrameDecoder().push(wire), msgs);
    const d = new FrameDecoder();
    const got: unknown[] = [];
    for (const b of wire) got.push(...d.push(Buffer.from([b])));
    assert.deepEqual(got, msgs);
    assert.equal(d.pending, 0);
  });

  test('a frame of exactly 1 MiB passes; one byte more is refused by the encoder', () => {
    const filler = (n: number) => ({ s: 'x'.repeat(n - 8) }); // {"s":"…"} is 8 bytes of JSON around the string
    const ok = encodeFrame(filler(MAX_FRAME_BYTES));
    assert.equal(ok.length, 4 + MAX_FRAME_BYTES);
    assert.equal((new FrameDecoder().push(ok)[0] as { s: string }).s.length, MAX_FRAME_BYTES - 8);
    assert.throws(() => encodeFrame(filler(MAX_FRAME_BYTES + 1)), (e: unknown) => e instanceof FrameError && e.code === 'too-large');
  });

  test('a peer announcing a 2 MiB frame is refused at its header, before the body is buffered; the decoder stays broken', () => {
    const d = new FrameDecoder();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(2 * 1024 * 1024, 0);
    assert.throws(() => d.push(Buffer.concat([header, Buffer.alloc(100)])), (e: unknown) => e instanceof FrameError && e.code === 'too-large');
    assert.equal(d.pending, 0, 'nothing kept');
    assert.throws(() => d.push(encodeFrame({ ok: true })), (e: unknown) => e instanceof FrameError && e.code === 'too-large');
  });

  test('invalid UTF-8 and invalid JSON are refused', () => {
    const frame = (body: Buffer) => { const h = Buffer.alloc(4); h.writeUInt32BE(body.length, 0); return Buffer.concat([h, body]); };
    assert.throws(() => new FrameDecoder().push(frame(Buffer.from([0x7b, 0xff, 0x7d]))), (e: unknown) => e instanceof FrameError && e.code === 'bad-utf8');
    assert.throws(() => new FrameDecoder().push(frame(Buffer.from('{"a":'))), (e: unknown) => e instanceof FrameError && e.code === 'bad-json');
  });

  test('a partial frame is held, at most one header and one body', () => {
    const d = new FrameDecoder();
    const f = encodeFrame({ big: 'y'.repeat(10_000) });
    assert.deepEqual(d.push(f.subarray(0, 5000)), []);
    assert.equal(d.pending, 5000 - 4);
    assert.equal(d.push(f.subarray(5000)).length, 1);
    assert.equal(d.pending, 0);
  });
});
