/**
 * IRCv3 SASL 3.1 framing ("The AUTHENTICATE command"): the client sends its base64 response in
 * lines of at most 400 bytes; a line of exactly 400 bytes means more follows; `+` is an empty
 * line (a response that is empty, or whose length is an exact multiple of 400, ends with `+`).
 *
 * - a line longer than 400 bytes → `too-long` (905 ERR_SASLTOOLONG, the exchange is aborted)
 * - once the response could decode to more than `maxDecodedBytes` → `too-big` (904), checked on
 *   every chunk so an abusive client never makes us buffer more than that
 *
 * The reference server had no reassembly at all (freeq-reference.md §1.4 "Not done").
 */
import { chunkAuthenticate, SASL_CHUNK_SIZE } from '@freeq/protocol';

/** the chunk size both ends use (@freeq/protocol, shared with the SDK and the web client) */
export const SASL_CHUNK_BYTES = SASL_CHUNK_SIZE;

export type SaslPush =
  | { status: 'more' }
  | { status: 'done'; text: string }
  | { status: 'too-long' }
  | { status: 'too-big' };

/** Upper bound of the decoded size of `n` base64 characters (padding counted as data). */
export function maxDecodedLength(n: number): number {
  return Math.floor((n * 3) / 4);
}

export class SaslBuffer {
  private parts: string[] = [];
  private bytes = 0;

  constructor(private readonly maxDecodedBytes: number) {}

  /** bytes of base64 text held for the response in progress */
  get pendingBytes(): number { return this.bytes; }

  push(line: string): SaslPush {
    if (line === '+' || line === '') {
      const text = this.parts.join('');
      this.reset();
      return { status: 'done', text };
    }
    const len = Buffer.byteLength(line);
    if (len > SASL_CHUNK_BYTES) { this.reset(); return { status: 'too-long' }; }
    this.parts.push(line);
    this.bytes += len;
    if (maxDecodedLength(this.bytes) > this.maxDecodedBytes) { this.reset(); return { status: 'too-big' }; }
    if (len === SASL_CHUNK_BYTES) return { status: 'more' };
    const text = this.parts.join('');
    this.reset();
    return { status: 'done', text };
  }

  reset(): void {
    this.parts = [];
    this.bytes = 0;
  }
}

/**
 * Server → client: the same framing for data we send (the ATPROTO challenge). Returns the
 * AUTHENTICATE parameters to send in order: 400-byte pieces, then `+` when the data is empty or an
 * exact multiple of 400.
 */
export function chunkOutgoing(encoded: string): string[] {
  return chunkAuthenticate(encoded);
}
