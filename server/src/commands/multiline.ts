import type { IrcMessage } from '../protocol/message.js';
import { foldCase } from '../protocol/casemap.js';
import { isClientOnlyTag } from '../protocol/tags.js';
import { safeParam } from '../protocol/validate.js';
import { CONCAT_TAG, MULTILINE_BATCH, MULTILINE_CAP } from '../session/multiline-out.js';
import type { MessageLine } from '../state/events.js';
import type { Session } from '../session/session.js';
import { SessionSlot } from '../session/slots.js';
import type { CommandContext } from './context.js';

/**
 * IRCv3 draft/multiline (https://ircv3.net/specs/extensions/multiline), hardening.md C6.
 *
 * Client side: `BATCH +<ref> draft/multiline <target>` opens a batch (commands/batch.ts), lines
 * tagged `batch=<ref>` are collected here (routed by session/session.ts, never relayed one by
 * one), `BATCH -<ref>` hands the whole message to relay() (commands/messaging.ts), which applies
 * every check of a single message once. Delivery side (session/multiline-out.ts): MultilineOut gives each recipient either
 * one draft/multiline batch (msgid on the BATCH start) or the plain fallback lines.
 */
export { MULTILINE_CAP, MULTILINE_BATCH, CONCAT_TAG } from '../session/multiline-out.js';
/** C6: open client batches per connection (freeq parity: draft_multiline.rs) */
export const MAX_OPEN_BATCHES = 5;
/** C6 (ours): an open batch with no line for this long is discarded */
export const BATCH_IDLE_MS = 30_000;
/** longest batch reference we accept (bytes) */
const MAX_REF_BYTES = 64;

/** one collected line (state/events.ts MessageLine) */
export type MultilineLine = MessageLine;

/** The combined message (state/message-ops.ts joinLines): lines joined by \n, except a concat line, which joins directly. */
export { joinLines } from '../state/message-ops.js';

// ---- client batches (input side) ---------------------------------------------------------

interface OpenBatch {
  ref: string;
  target: string;
  /** client-only tags of the opening BATCH (the message's tags: "sent attached to the initial BATCH") */
  tags: Map<string, string>;
  /** label of the opening BATCH (labeled-response): the response to `BATCH -` carries it */
  label: string | undefined;
  /** PRIVMSG or NOTICE, fixed by the first line */
  command?: 'PRIVMSG' | 'NOTICE';
  lines: MultilineLine[];
  /** max-bytes accounting: text bytes plus one per joining line feed */
  bytes: number;
  lastActivity: number;
  /** refused (FAIL sent): its remaining lines and its end are dropped silently */
  failed: boolean;
}

interface SessionBatches {
  open: Map<string, OpenBatch>;
  /** references whose `BATCH +` was refused (FIFO, bounded): their lines are dropped silently */
  refused: string[];
}

/** per connection, on the session (session/slots.ts): created by the first BATCH, gone with the connection */
const BATCHES = new SessionSlot<SessionBatches>('multiline');

function batchesOf(session: Session): SessionBatches {
  return session.slot(BATCHES, () => ({ open: new Map(), refused: [] }));
}

function refuse(s: SessionBatches, ref: string): void {
  if (s.refused.includes(ref)) return;
  s.refused.push(ref);
  if (s.refused.length > MAX_OPEN_BATCHES) s.refused.shift();
}

/** `line` belongs to a client batch of this connection (open or refused): collected, not relayed. */
export function isBatchedLine(session: Session, msg: IrcMessage): boolean {
  const ref = msg.tags.get('batch');
  if (ref === undefined || msg.command === 'BATCH') return false;
  const s = session.peekSlot(BATCHES);
  return s !== undefined && (s.open.has(ref) || s.refused.includes(ref));
}

const failBatch = (ctx: CommandContext, code: string, ...rest: string[]): void => ctx.fail('BATCH', code, ...rest);

/** `BATCH +<ref> <type> [<target>]` */
export function openBatch(ctx: CommandContext, ref: string, type: string | undefined, target: string | undefined): void {
  const s = batchesOf(ctx.session);
  const why = ((): string | undefined => {
    if (ref === '' || Buffer.byteLength(ref) > MAX_REF_BYTES) return 'Invalid batch reference';
    if (type !== MULTILINE_BATCH) return 'Unsupported batch type';
    if (!ctx.session.hasCap(MULTILINE_CAP)) return 'The draft/multiline capability is not enabled';
    if (target === undefined || target === '') return 'No multiline batch target';
    if (s.open.has(ref)) return 'Batch reference already in use';
    if (s.open.size >= MAX_OPEN_BATCHES) return `Too many open multiline batches (at most ${MAX_OPEN_BATCHES})`;
    return undefined;
  })();
  if (why) {
    // a reference in use stays with its open batch
    if (!s.open.has(ref)) refuse(s, ref);
    failBatch(ctx, 'MULTILINE_INVALID', why);
    return;
  }
  const tags = new Map<string, string>();
  for (const [k, v] of ctx.msg.tags) if (isClientOnlyTag(k)) tags.set(k, v);
  s.refused = s.refused.filter((r) => r !== ref);
  s.open.set(ref, {
    ref, target: target!, tags, label: ctx.reply.label, lines: [], bytes: 0,
    lastActivity: ctx.server.clock.now(), failed: false,
  });
  // the label is answered by the response to `BATCH -` (multiline: on the echo's BATCH start)
  ctx.reply.relabel(undefined);
}

/** Refuse an open batch: FAIL once, then its lines are dropped until `BATCH -` (or the timeout). */
function failOpen(ctx: CommandContext, b: OpenBatch, code: string, ...rest: string[]): void {
  b.failed = true;
  b.lines = [];
  failBatch(ctx, code, ...rest);
}

/** A line tagged `batch=<ref>` (session/session.ts routes it here instead of the command table). */
export function collectLine(ctx: CommandContext): void {
  const { msg, server } = ctx;
  const ref = msg.tags.get('batch')!;
  const s = batchesOf(ctx.session);
  const b = s.open.get(ref);
  if (!b) {
    if (!s.refused.includes(ref)) failBatch(ctx, 'MULTILINE_INVALID', 'Unknown batch reference');
    return;
  }
  b.lastActivity = server.clock.now();
  if (b.failed) return;
  const cmd = msg.command;
  if ((cmd !== 'PRIVMSG' && cmd !== 'NOTICE') || (b.command !== undefined && b.command !== cmd)) {
    failOpen(ctx, b, 'MULTILINE_INVALID', 'A multiline batch may only contain PRIVMSG lines or NOTICE lines');
    return;
  }
  const [target, text] = msg.params;
  if (target === undefined || text === undefined) { failOpen(ctx, b, 'MULTILINE_INVALID', 'Multiline line without target or text'); return; }
  if (foldCase(target) !== foldCase(b.target)) {
    failOpen(ctx, b, 'MULTILINE_INVALID_TARGET', safeParam(b.target), safeParam(target), 'Invalid multiline target');
    return;
  }
  const concat = msg.tags.has(CONCAT_TAG);
  if (concat && text === '') { failOpen(ctx, b, 'MULTILINE_INVALID', 'Blank line with draft/multiline-concat'); return; }
  const cfg = server.config;
  if (b.lines.length >= cfg.multilineMaxLines) {
    failOpen(ctx, b, 'MULTILINE_MAX_LINES', String(cfg.multilineMaxLines), 'Multiline batch max-lines exceeded');
    return;
  }
  // each joining line feed counts one byte; none after the last line
  const bytes = b.bytes + Buffer.byteLength(text) + (b.lines.length > 0 && !concat ? 1 : 0);
  if (bytes > cfg.multilineMaxBytes) {
    failOpen(ctx, b, 'MULTILINE_MAX_BYTES', String(cfg.multilineMaxBytes), 'Multiline batch max-bytes exceeded');
    return;
  }
  b.command = cmd;
  b.bytes = bytes;
  b.lines.push({ text, concat });
}

/** What `BATCH -<ref>` completes: a message for relay(), or undefined (a FAIL was sent, or nothing to do). */
export function closeBatch(ctx: CommandContext, ref: string): { command: 'PRIVMSG' | 'NOTICE'; target: string; tags: Map<string, string>; lines: MultilineLine[] } | undefined {
  const s = batchesOf(ctx.session);
  const b = s.open.get(ref);
  if (!b) {
    if (s.refused.includes(ref)) s.refused = s.refused.filter((r) => r !== ref);
    else failBatch(ctx, 'MULTILINE_INVALID', 'Unknown batch reference');
    return undefined;
  }
  s.open.delete(ref);
  if (b.failed) return undefined;
  // labeled-response: the response (echo, errors) answers the opening BATCH's label
  if (b.label !== undefined) ctx.reply.relabel(b.label);
  if (b.lines.length === 0 || b.command === undefined) { failBatch(ctx, 'MULTILINE_INVALID', 'Empty multiline batch'); return undefined; }
  // "Clients MUST NOT send messages consisting entirely of blank lines"
  if (b.lines.every((l) => l.text === '')) { failBatch(ctx, 'MULTILINE_INVALID', 'Multiline message is blank'); return undefined; }
  return { command: b.command, target: b.target, tags: b.tags, lines: b.lines };
}

/** Periodic sweep (Session.tick): discard batches idle for BATCH_IDLE_MS, telling the client. */
export function sweepBatches(session: Session, now: number): void {
  const s = session.peekSlot(BATCHES);
  if (!s) return;
  for (const [ref, b] of s.open) {
    if (now - b.lastActivity < BATCH_IDLE_MS) continue;
    s.open.delete(ref);
    refuse(s, ref);
    session.send({ tags: new Map(), source: session.serverName, command: 'FAIL', params: ['BATCH', 'TIMEOUT', safeParam(ref), 'Multiline batch timed out'] });
  }
}
