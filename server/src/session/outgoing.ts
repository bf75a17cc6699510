import { monotonicFactory } from 'ulid';
import type { IrcMessage } from '../protocol/message.js';
import { toWire } from '../protocol/serialize.js';
import { pooledPrng } from '../util/random-pool.js';

/** Capabilities that change which tags a recipient sees; a recipient's tagMask ORs these. */
export const TagCap = { MessageTags: 1, ServerTime: 2, AccountTag: 4 } as const;
const VARIANTS = 8;

// ulid's default PRNG calls crypto.randomBytes once per character (~20 µs per msgid)
export const newMsgid = monotonicFactory(pooledPrng);

export interface OutMeta {
  /** server-time `time` tag (ISO 8601 with ms) */
  time: string;
  /** the same instant in ms since the epoch (history), when the sender knows it */
  at?: number;
  /** message-ids `msgid` (needs message-tags) */
  msgid?: string;
  /** account-tag `account` */
  account?: string;
  /** client-only tags (`+…`) relayed to message-tags clients */
  clientTags?: Map<string, string>;
  /** bot-mode `bot` tag (needs message-tags) */
  bot?: boolean;
  /** the `batch` tag (a line of a server batch, e.g. netsplit; only built for batch clients) */
  batch?: string;
}

/**
 * A message to several recipients. The wire bytes are built at most once per capability
 * variant (8 at most) and the same Buffer is queued to every recipient of that variant
 * (DESIGN.md §4.4: serialize once, fan out many).
 */
export class Outgoing {
  private wire = new Array<Buffer | undefined>(VARIANTS);

  constructor(readonly base: IrcMessage, readonly meta: OutMeta) {}

  tagsFor(mask: number): Map<string, string> {
    const t = new Map<string, string>();
    const mt = (mask & TagCap.MessageTags) !== 0;
    if (mt && this.meta.clientTags) for (const [k, v] of this.meta.clientTags) t.set(k, v);
    if (mask & TagCap.AccountTag && this.meta.account) t.set('account', this.meta.account);
    if (mt && this.meta.bot) t.set('bot', '');
    if (mt && this.meta.msgid) t.set('msgid', this.meta.msgid);
    if (mask & TagCap.ServerTime) t.set('time', this.meta.time);
    if (this.meta.batch !== undefined) t.set('batch', this.meta.batch);
    return t;
  }

  messageFor(mask: number): IrcMessage {
    return { ...this.base, tags: this.tagsFor(mask) };
  }

  bytesFor(mask: number): Buffer {
    let b = this.wire[mask];
    if (!b) {
      b = toWire(this.messageFor(mask));
      this.wire[mask] = b;
    }
    return b;
  }
}

export function nowIso(ms: number): string {
  return new Date(ms).toISOString();
}
