import type { IrcMessage } from '../protocol/message.js';
import { pooledRandomBytes } from '../util/random-pool.js';

const REF_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** characters of a batch reference: 62^12 ≈ 2^71 */
const REF_LENGTH = 12;

/**
 * A server batch reference (IRCv3 batch: labeled-response, chathistory, draft/multiline): letters
 * and digits only. base64url references held `-` and `_`, and clients that check references
 * against letters, digits and hyphens refused the `_` ones (#16). Uniform: bytes ≥ 248 (4 × 62)
 * are drawn again.
 */
export function newBatchId(): string {
  let ref = '';
  while (ref.length < REF_LENGTH) {
    for (const b of pooledRandomBytes(REF_LENGTH)) {
      if (b < 248 && ref.length < REF_LENGTH) ref += REF_ALPHABET[b % 62];
    }
  }
  return ref;
}

/**
 * Everything a command sends to its own client goes here first (Ergo's ResponseBuffer):
 * labeled-response and batch are applied once, at flush, so handlers never think about them.
 */
export class ReplyBuffer {
  readonly lines: IrcMessage[] = [];
  /** side effects that are not part of the response (e.g. a PRIVMSG to oneself): never labeled */
  private readonly sideEffects: IrcMessage[] = [];
  /** in arrival order, for the unlabeled case */
  private readonly all: IrcMessage[] = [];

  constructor(
    private readonly serverName: string,
    /** label tag of the command, only when labeled-response is negotiated */
    private labelTag: string | undefined,
  ) {}

  /** the label this response will carry (undefined: unlabeled) */
  get label(): string | undefined { return this.labelTag; }

  /**
   * Client batches (draft/multiline): `BATCH +` is answered by nothing, and the response to
   * `BATCH -` carries the opening BATCH's label (commands/multiline.ts).
   */
  relabel(label: string | undefined): void { this.labelTag = label; }

  add(m: IrcMessage): void {
    this.lines.push(m);
    this.all.push(m);
  }

  /**
   * A message caused by the command that is not a response to it. labeled-response: "When a
   * client sends a message to itself, the server MUST NOT include the label tag, except for any
   * acknowledgment sent with the echo-message mechanism."
   */
  addSideEffect(m: IrcMessage): void {
    this.sideEffects.push(m);
    this.all.push(m);
  }

  /** Final lines: labeled as one line, an ACK, or wrapped in a labeled-response batch. */
  finish(): IrcMessage[] {
    const label = this.labelTag;
    if (label === undefined) return this.all;
    return [...this.labeled(label), ...this.sideEffects];
  }

  private labeled(label: string): IrcMessage[] {
    if (this.lines.length === 0) {
      return [{ tags: new Map([['label', label]]), source: this.serverName, command: 'ACK', params: [] }];
    }
    if (this.lines.length === 1) {
      const only = this.lines[0]!;
      const tags = new Map(only.tags);
      tags.set('label', label);
      return [{ ...only, tags }];
    }
    // multiline + echo-message: "Servers MUST only include the label tag on the opening BATCH
    // command" when the response is exactly one draft/multiline batch
    if (isOneMultilineBatch(this.lines)) {
      const [first, ...rest] = this.lines;
      return [{ ...first!, tags: new Map([['label', label], ...first!.tags]) }, ...rest];
    }
    const id = newBatchId();
    const out: IrcMessage[] = [{ tags: new Map([['label', label]]), source: this.serverName, command: 'BATCH', params: [`+${id}`, 'labeled-response'] }];
    for (const m of this.lines) {
      if (m.tags.has('batch')) { out.push(m); continue; } // nested batch content keeps its own batch
      const tags = new Map([['batch', id], ...m.tags]);
      out.push({ ...m, tags });
    }
    out.push({ tags: new Map(), source: this.serverName, command: 'BATCH', params: [`-${id}`] });
    return out;
  }
}

/** `BATCH +x draft/multiline …`, lines tagged batch=x, `BATCH -x`, and nothing else */
function isOneMultilineBatch(lines: readonly IrcMessage[]): boolean {
  const first = lines[0];
  const last = lines[lines.length - 1];
  if (lines.length < 3 || first?.command !== 'BATCH' || last?.command !== 'BATCH') return false;
  const open = first.params[0] ?? '';
  if (!open.startsWith('+') || first.params[1] !== 'draft/multiline' || first.tags.has('batch')) return false;
  const id = open.slice(1);
  return last.params[0] === `-${id}` && lines.slice(1, -1).every((m) => m.tags.get('batch') === id);
}
