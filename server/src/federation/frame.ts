/**
 * Server-to-server framing (#14, federation.md): every message is a 4-byte big-endian length and
 * then that many bytes of UTF-8 JSON. A frame is at most MAX_FRAME_BYTES: a larger one is refused
 * from its length header, before any of its body is buffered, and the link is closed (the
 * reference read unbounded lines). Nothing here trusts the peer: the bytes are only decoded; the
 * schema (federation/messages.ts) decides what they may say.
 *
 * Hand-written: a length prefix and a bounded buffer are a dozen lines, and the framing libraries
 * on npm either buffer without a limit or bring a stream stack we do not need.
 */
export const MAX_FRAME_BYTES = 1024 * 1024;
const HEADER = 4;

export type FrameErrorCode = 'too-large' | 'bad-utf8' | 'bad-json';

export class FrameError extends Error {
  constructor(readonly code: FrameErrorCode, message: string) {
    super(message);
  }
}

/** One message as a frame. Throws FrameError('too-large') rather than build a frame the peer must refuse. */
export function encodeFrame(msg: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(msg), 'utf8');
  if (body.length > MAX_FRAME_BYTES) throw new FrameError('too-large', `frame of ${body.length} bytes (max ${MAX_FRAME_BYTES})`);
  const out = Buffer.allocUnsafe(HEADER + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, HEADER);
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Incremental decoder for one link: `push` each chunk as it arrives and get the complete messages
 * it finishes. It never holds more than one frame header and one frame body. After a FrameError
 * the link is broken (the caller closes it); further pushes throw the same error.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** the body length of the frame being read, once its header is in */
  private need: number | undefined;
  private failed?: FrameError;

  constructor(private readonly maxBytes = MAX_FRAME_BYTES) {}

  /** bytes held for a frame not yet complete */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Buffer): unknown[] {
    if (this.failed) throw this.failed;
    const out: unknown[] = [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.need === undefined) {
        if (this.buffered < HEADER) break;
        const len = this.take(HEADER).readUInt32BE(0);
        if (len > this.maxBytes) return this.fail(new FrameError('too-large', `frame of ${len} bytes announced (max ${this.maxBytes})`));
        this.need = len;
      }
      if (this.buffered < this.need) break;
      const body = this.take(this.need);
      this.need = undefined;
      let text: string;
      try {
        text = utf8.decode(body);
      } catch {
        return this.fail(new FrameError('bad-utf8', 'frame is not valid UTF-8'));
      }
      try {
        out.push(JSON.parse(text));
      } catch {
        return this.fail(new FrameError('bad-json', 'frame is not valid JSON'));
      }
    }
    return out;
  }

  private fail(e: FrameError): never {
    this.failed = e;
    this.chunks = [];
    this.buffered = 0;
    throw e;
  }

  /** the first `n` buffered bytes (n ≤ buffered) */
  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return head;
  }
}
