import type { IrcMessage } from '../protocol/message.js';
import type { Channel } from '../state/channel.js';
import type { MessageLine } from '../state/events.js';
import type { User } from '../state/user.js';
import { Outgoing } from './outgoing.js';
import { newBatchId } from './reply-buffer.js';

/** IRCv3 draft/multiline (https://ircv3.net/specs/extensions/multiline): the capability, the batch type and the concat tag */
export const MULTILINE_CAP = 'draft/multiline';
export const MULTILINE_BATCH = 'draft/multiline';
export const CONCAT_TAG = 'draft/multiline-concat';

/** An Outgoing whose tags are the same for every recipient (lines inside a server batch). */
class FixedTagsOutgoing extends Outgoing {
  constructor(base: IrcMessage, private readonly fixed: ReadonlyMap<string, string>) { super(base, { time: '' }); }
  override tagsFor(): Map<string, string> { return new Map(this.fixed); }
}

const canMultiline = (link: { hasCap(c: string): boolean }): boolean => link.hasCap(MULTILINE_CAP) && link.hasCap('batch');

/**
 * One multiline message to one target, built from the message's Outgoing for that target (session/fanout.ts) (its meta:
 * msgid, time, account, client tags and signature). Each form is built once, when first needed
 * (after signing), and shared by every recipient of that form (serialize once, fan out many).
 */
export class MultilineOut {
  private batchForm?: Outgoing[];
  private fallbackForm?: Outgoing[];

  constructor(private readonly out: Outgoing, readonly lines: readonly MessageLine[]) {}

  /** multiline clients: `BATCH +ref draft/multiline <target>` with the message's tags, the lines, `BATCH -ref` */
  private batch(): Outgoing[] {
    if (this.batchForm) return this.batchForm;
    const { source, command, params } = this.out.base;
    const target = params[0]!;
    const ref = newBatchId();
    const start = new Outgoing({ tags: new Map(), source, command: 'BATCH', params: [`+${ref}`, MULTILINE_BATCH, target] }, this.out.meta);
    const body = this.lines.map((l) => new FixedTagsOutgoing(
      { tags: new Map(), source, command, params: [target, l.text] },
      new Map(l.concat ? [['batch', ref], [CONCAT_TAG, '']] : [['batch', ref]]),
    ));
    const end = new FixedTagsOutgoing({ tags: new Map(), source, command: 'BATCH', params: [`-${ref}`] }, new Map());
    this.batchForm = [start, ...body, end];
    return this.batchForm;
  }

  /**
   * Others: the lines as sent (never blank ones), the message's tags (msgid, client tags,
   * signature) on the first only; server-time and account on every line.
   */
  private fallback(): Outgoing[] {
    if (this.fallbackForm) return this.fallbackForm;
    const { source, command, params } = this.out.base;
    const meta = this.out.meta;
    this.fallbackForm = this.lines.filter((l) => l.text !== '').map((l, i) => new Outgoing(
      { tags: new Map(), source, command, params: [params[0]!, l.text] },
      i === 0 ? meta : { time: meta.time, account: meta.account, bot: meta.bot },
    ));
    return this.fallbackForm;
  }

  /** What `link` gets, in order, each through `sink` (deliver, deliverSideEffect…). */
  send(link: { hasCap(c: string): boolean }, sink: (o: Outgoing) => void): void {
    for (const o of canMultiline(link) ? this.batch() : this.fallback()) sink(o);
  }

  /** To every member of `ch` but `skip` that passes `filter` (one pass per form and line). */
  toChannel(fanout: { toChannel(ch: Channel, out: Outgoing, skip?: User, filter?: (u: User) => boolean): void }, ch: Channel, skip: User, filter: (u: User) => boolean): void {
    for (const o of this.batch()) fanout.toChannel(ch, o, skip, (u) => filter(u) && canMultiline(u.link));
    for (const o of this.fallback()) fanout.toChannel(ch, o, skip, (u) => filter(u) && !canMultiline(u.link));
  }
}
