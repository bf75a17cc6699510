/** After this many bytes of one over-long line are discarded, the client is dropped (hardening B1). */
export const MAX_DISCARD_BYTES = 1024 * 1024;
/** what the client gets before that close */
export const FLOOD_ERROR = Buffer.from('ERROR :Input line too long\r\n');

export interface LineSink {
  line(line: Buffer): void;
  overflow(): void;
  /** too much garbage without a line end: caller closes the connection */
  flood(): void;
}

/**
 * CRLF/LF framing with a hard bound: at most `readq` bytes are ever buffered. An over-long line
 * is reported once (417) and discarded up to its LF without buffering it.
 */
export class LineReader {
  private buf: Buffer | undefined;
  private discarding = 0; // >0: bytes of the current over-long line thrown away

  private readonly sink: LineSink;

  /** without `sink`, the reader is its own sink: a subclass that implements LineSink (lean-tcp.ts) */
  constructor(private readonly readq: number, sink?: LineSink) {
    this.sink = sink ?? (this as unknown as LineSink);
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(0x0a, start);
      if (this.discarding > 0) {
        if (lf === -1) {
          this.discarding += chunk.length - start;
          if (this.discarding > MAX_DISCARD_BYTES) { this.sink.flood(); return; }
          return;
        }
        this.discarding = 0;
        start = lf + 1;
        continue;
      }
      if (lf === -1) {
        const rest = chunk.subarray(start);
        const have = this.buf ? this.buf.length : 0;
        if (have + rest.length > this.readq) {
          this.buf = undefined;
          this.discarding = have + rest.length;
          this.sink.overflow();
          return;
        }
        this.buf = this.buf ? Buffer.concat([this.buf, rest]) : Buffer.from(rest);
        return;
      }
      let line = chunk.subarray(start, lf);
      if (this.buf) { line = Buffer.concat([this.buf, line]); this.buf = undefined; }
      start = lf + 1;
      if (line.length > this.readq) { this.sink.overflow(); continue; }
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      this.sink.line(line);
    }
  }
}
