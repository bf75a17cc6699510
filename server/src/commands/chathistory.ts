import { decodeTime } from 'ulid';
import { historyReply, historyReplyAsync, wantsRedact, wantsTagmsg, type HistoryReply, type Keep, type ReplyBudget } from '../history/replay.js';
import { channelCut, OUTSIDER } from '../history/cutoff.js';
import type { HistoryReadOptions, HistoryRef, StoredMessage } from '../history/types.js';
import { foldCase } from '../protocol/casemap.js';
import type { IrcMessage } from '../protocol/message.js';
import { isChannelName, safeParam } from '../protocol/validate.js';
import { newBatchId } from '../session/reply-buffer.js';
import { nowIso } from '../session/outgoing.js';
import { dmVenue } from '../keys/chat-signature.js';
import type { CommandContext } from './context.js';
import { defineCommand } from './registry.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;

/** `timestamp=YYYY-MM-DDThh:mm:ss.sssZ` → ms, or undefined if it is not a real UTC instant */
export function parseTimestamp(v: string): number | undefined {
  if (!v.startsWith('timestamp=')) return undefined;
  const iso = v.slice('timestamp='.length);
  if (!ISO.test(iso)) return undefined;
  const t = Date.parse(iso);
  // reject dates that do not exist (2024-02-30 would roll over)
  if (!Number.isFinite(t) || new Date(t).toISOString().slice(0, 19) !== iso.slice(0, 19)) return undefined;
  return t;
}

/** a CHATHISTORY message reference (MSGREFTYPES=msgid,timestamp) */
export function parseRef(v: string): HistoryRef | undefined {
  if (v.startsWith('msgid=')) {
    const id = v.slice('msgid='.length);
    return id !== '' && !/[\s,]/.test(id) ? { msgid: id } : undefined;
  }
  const t = parseTimestamp(v);
  return t === undefined ? undefined : { time: t };
}

/** Where a history target's messages live, if this user may read them (and, for a channel, the history-cutoff filter, #12). */
export type ResolvedTarget = { venue: string; name: string; did?: string; cut?: Pick<HistoryReadOptions, 'since' | 'restrictedSince'> };

/** #12 history-cutoff for this user in the channel stored under `folded` (history/cutoff.ts) */
function cutFor(ctx: CommandContext, folded: string): Pick<HistoryReadOptions, 'since' | 'restrictedSince'> {
  const ch = ctx.server.world.channels.get(folded);
  if (!ch) return OUTSIDER;
  return channelCut(ctx.server.config.historyCutoff, ch, { joinedAt: ch.members.get(ctx.user)?.joinedAt, did: ctx.user.account });
}

/**
 * A channel the user is in (its folded name: not being a member, a +s/+p channel and a channel
 * that does not exist all look the same), or a nick / DID when both sides are logged in (the
 * account pair's `dm:` venue: only those two accounts can read it).
 */
export function resolveTarget(ctx: CommandContext, target: string): ResolvedTarget | undefined {
  const { server, user } = ctx;
  if (isChannelName(target)) {
    const ch = server.world.findChannel(target);
    if (!ch || !ch.members.has(user)) return undefined;
    return { venue: ch.folded, name: ch.name, cut: cutFor(ctx, ch.folded) };
  }
  if (!user.account) return undefined;
  const did = target.startsWith('did:') ? target : server.world.findUser(target)?.account ?? server.world.nickOwners.get(foldCase(target));
  if (!did) return undefined;
  return { venue: dmVenue(user.account, did), name: target, did };
}

/** The nick to show for a DM venue's other account (its owned nick, else the DID). */
function dmName(ctx: CommandContext, venue: string, me: string): string {
  const [a, b] = venue.slice(3).split(',') as [string, string];
  const other = a === me ? b : a;
  return ctx.server.world.accountNicks.get(other)?.nick ?? other;
}

const SUBCOMMANDS = new Set(['LATEST', 'BEFORE', 'AFTER', 'AROUND', 'BETWEEN', 'TARGETS']);

/**
 * CHATHISTORY (IRCv3 draft/chathistory): LATEST, BEFORE, AFTER, AROUND, BETWEEN with `msgid=`
 * and `timestamp=` references, TARGETS. The limit is clamped to history-query-limit
 * (`CHATHISTORY=<n>` in 005). Results come in one `chathistory` batch, oldest first, each line as
 * originally delivered (msgid, time). The capabilities are not required (the spec says servers
 * SHOULD NOT), they only shape the lines.
 */
export default defineCommand({
  name: 'CHATHISTORY',
  help: 'CHATHISTORY <LATEST|BEFORE|AFTER|AROUND> <target> <msgid=…|timestamp=…|*> <limit>\n'
    + 'CHATHISTORY BETWEEN <target> <ref> <ref> <limit> | CHATHISTORY TARGETS <timestamp=…> <timestamp=…> <limit>\n'
    + 'Message history of a channel you are in, or of your private messages with another logged-in account.',
  async run(ctx, params) {
    const { server, user, session } = ctx;
    const sub = (params[0] ?? '').toUpperCase();
    if (!params[0]) { ctx.fail('CHATHISTORY', 'NEED_MORE_PARAMS', 'Missing parameters'); return; }
    if (!SUBCOMMANDS.has(sub)) { ctx.fail('CHATHISTORY', 'UNKNOWN_COMMAND', safeParam(params[0]), 'Unknown subcommand'); return; }
    const need = sub === 'BETWEEN' ? 5 : 4;
    if (params.length < need) { ctx.fail('CHATHISTORY', 'NEED_MORE_PARAMS', sub, 'Missing parameters'); return; }
    const invalid = (why: string): void => ctx.fail('CHATHISTORY', 'INVALID_PARAMS', sub, why);
    const rawLimit = params[need - 1]!;
    if (!/^\d{1,9}$/.test(rawLimit) || Number(rawLimit) < 1) { invalid('Invalid limit'); return; }
    const limit = Math.min(Number(rawLimit), server.config.historyQueryLimit);
    const reader = server.historyReader;

    if (sub === 'TARGETS') {
      const from = parseTimestamp(params[1]!);
      const to = parseTimestamp(params[2]!);
      if (from === undefined || to === undefined) { invalid('Invalid timestamp'); return; }
      const venues = [...user.channels].map((c) => c.folded);
      if (user.account) venues.push(...reader.dmVenuesOf(user.account));
      let rows: { venue: string; latest: number }[];
      try {
        rows = cutTargets(ctx, reader.targets(venues, from, to, venues.length), from, to).slice(0, limit);
      } catch (e) {
        server.log.error({ err: e }, 'CHATHISTORY TARGETS failed');
        ctx.fail('CHATHISTORY', 'MESSAGE_ERROR', sub, '*', 'Messages could not be retrieved');
        return;
      }
      const lines: IrcMessage[] = rows.map((r) => ({
        tags: new Map(), source: server.config.serverName, command: 'CHATHISTORY',
        params: ['TARGETS', r.venue.startsWith('dm:') ? dmName(ctx, r.venue, user.account!) : server.world.channels.get(r.venue)?.name ?? r.venue, nowIso(r.latest)],
      }));
      if (session.hasCap('batch')) {
        const id = newBatchId();
        ctx.send({ tags: new Map(), source: server.config.serverName, command: 'BATCH', params: [`+${id}`, 'draft/chathistory-targets'] });
        for (const l of lines) ctx.send({ ...l, tags: new Map([['batch', id]]) });
        ctx.send({ tags: new Map(), source: server.config.serverName, command: 'BATCH', params: [`-${id}`] });
      } else {
        for (const l of lines) ctx.send(l);
      }
      return;
    }

    const target = params[1]!;
    const resolved = resolveTarget(ctx, target);
    if (!resolved) { ctx.fail('CHATHISTORY', 'INVALID_TARGET', sub, safeParam(target), 'Messages could not be retrieved'); return; }
    // #16: a draft/message-redaction client gets the REDACTs too (at their time; not counted in the limit)
    const o = { tagmsg: wantsTagmsg(session), redact: wantsRedact(session), ...resolved.cut };
    const v = resolved.venue;
    const budget = replyBudget(ctx);
    // rows past the byte budget are not even decrypted (storage/repos/messages.ts)
    const ro = { ...o, maxBytes: budget.bytes };
    let keep: Keep = 'newest';
    let msgs: StoredMessage[];
    try {
      if (sub === 'LATEST') {
        const after = params[2] === '*' ? undefined : parseRef(params[2]!);
        if (params[2] !== '*' && !after) { invalid('Invalid message reference'); return; }
        msgs = reader.latest(v, limit, after, ro);
      } else if (sub === 'BETWEEN') {
        const a = parseRef(params[2]!);
        const b = parseRef(params[3]!);
        if (!a || !b) { invalid('Invalid message reference'); return; }
        // forwards in time: the client pages on from the newest message it got, so keep the oldest
        keep = startsNewer(a, b) ? 'newest' : 'oldest';
        msgs = reader.between(v, a, b, limit, ro);
      } else {
        const ref = parseRef(params[2]!);
        if (!ref) { invalid('Invalid message reference'); return; }
        msgs = sub === 'BEFORE' ? reader.before(v, ref, limit, ro) : sub === 'AFTER' ? reader.after(v, ref, limit, ro) : reader.around(v, ref, limit, ro);
        if (sub === 'AFTER') keep = 'oldest';
        else if (sub === 'AROUND') keep = { pivot: pivotIndex(msgs, ref) };
      }
    } catch (e) {
      server.log.error({ err: e, venue: v }, 'CHATHISTORY query failed');
      ctx.fail('CHATHISTORY', 'MESSAGE_ERROR', sub, safeParam(target), 'Messages could not be retrieved');
      return;
    }
    // #16: a REDACT in a private conversation names the conversation as this reader does (the other
    // side), whoever redacted: a server operator's REDACT would otherwise name one side to both
    if (resolved.did !== undefined) msgs = msgs.map((m) => (m.command === 'REDACT' ? { ...m, target: resolved.name } : m));
    // #12: the reply is built a slice at a time (the event loop runs between slices) and goes out
    // through the session's own-output path, which stops reading this client while it does not drain
    const reply = await historyReplyAsync(server.config.serverName, resolved.name, msgs, session, budget, keep);
    sendReply(ctx, reply, sub, target, budget);
  },
});

/**
 * TARGETS under history-cutoff (#12): a channel's latest time is that of the latest message this
 * user may read, so the list never dates what the cutoff hides (a channel whose readable part has
 * nothing in the window is left out). `rows` come in the order TARGETS returns them.
 */
function cutTargets(ctx: CommandContext, rows: { venue: string; latest: number }[], from: number, to: number): { venue: string; latest: number }[] {
  const out: { venue: string; latest: number }[] = [];
  const [lo, hi] = from <= to ? [from, to] : [to, from];
  for (const r of rows) {
    if (r.venue.startsWith('dm:')) { out.push(r); continue; }
    const cut = cutFor(ctx, r.venue);
    if (cut.since === undefined && cut.restrictedSince === undefined) { out.push(r); continue; }
    // the newest readable message strictly inside the window (BETWEEN from the newer end)
    const newest = ctx.server.historyReader.between(r.venue, { time: hi }, { time: lo }, 1, cut);
    if (newest.length > 0) out.push({ venue: r.venue, latest: newest[0]!.time });
  }
  return from > to ? out.sort((a, b) => b.latest - a.latest || cmpStr(a.venue, b.venue)) : out.sort((a, b) => a.latest - b.latest || cmpStr(a.venue, b.venue));
}

const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** history-reply-max-bytes / -lines: one CHATHISTORY reply, or all of one JOIN command's replays */
export function replyBudget(ctx: CommandContext): ReplyBudget {
  return { bytes: ctx.server.config.historyReplyMaxBytes, lines: ctx.server.config.historyReplyMaxLines };
}

/**
 * The reply's lines, then, when messages were left out, a standard-replies warning (the spec's
 * "Errors and Warnings are returned using the standard replies syntax"): the batch holds whole
 * messages only, so the client pages for the rest with BEFORE/AFTER from the message it got last.
 */
function sendReply(ctx: CommandContext, reply: HistoryReply, sub: string, target: string, budget: ReplyBudget): void {
  for (const line of reply.lines) ctx.send(line);
  if (!reply.truncated) return;
  ctx.server.metrics.limitHit('history-reply');
  ctx.send({
    tags: new Map(), source: ctx.server.config.serverName, command: 'WARN',
    params: ['CHATHISTORY', 'TRUNCATED', sub, safeParam(target), `Reply limited to ${reply.kept} messages (${budget.bytes} bytes, ${budget.lines} lines); request more with BEFORE or AFTER`],
  });
}

/**
 * BETWEEN reads backwards when its first reference is the newer one (history/store.ts compares
 * positions). Two msgids compare as strings: this server's msgids are monotonic ULIDs, so their
 * order is the order they were made, within a millisecond too. Otherwise by time; at equal times
 * a timestamp stands before every message of its millisecond, as the store places it.
 */
function startsNewer(a: HistoryRef, b: HistoryRef): boolean {
  if ('msgid' in a && 'msgid' in b) return a.msgid > b.msgid;
  const ta = refTime(a);
  const tb = refTime(b);
  if (ta === undefined || tb === undefined) return false;
  if (ta !== tb) return ta > tb;
  return 'msgid' in a && 'time' in b;
}

/** a reference's instant: a timestamp, or the time in a msgid (ULIDs begin with their millisecond) */
function refTime(ref: HistoryRef): number | undefined {
  if ('time' in ref) return ref.time;
  try { return decodeTime(ref.msgid); } catch { return undefined; }
}

/** AROUND: the index of the referenced message (or the first one at or after the timestamp) */
function pivotIndex(msgs: readonly StoredMessage[], ref: HistoryRef): number {
  const i = 'msgid' in ref ? msgs.findIndex((m) => m.msgid === ref.msgid) : msgs.findIndex((m) => m.time >= ref.time);
  return i >= 0 ? i : Math.floor(msgs.length / 2);
}

/**
 * history-replay-on-join: the channel's last N messages after a JOIN, in a chathistory batch,
 * for clients that negotiated batch and server-time but not draft/chathistory (those fetch what
 * they need themselves). A failed read only loses the replay, never the JOIN. `left` is what the
 * JOIN command may still replay (#12: `JOIN #a,#b,…` shares one budget, so a hundred channels
 * cost what one CHATHISTORY reply does); each replay takes what it sends from it.
 */
export function replayOnJoin(ctx: CommandContext, ch: { folded: string; name: string }, left: ReplyBudget): void {
  const { server, session } = ctx;
  const n = server.config.historyReplayOnJoin;
  if (n <= 0 || !session.hasCap('batch') || !session.hasCap('server-time') || session.hasCap('draft/chathistory')) return;
  if (left.bytes <= 0 || left.lines <= 2) return;
  try {
    const msgs = server.historyReader.latest(ch.folded, n, undefined, { tagmsg: wantsTagmsg(session), redact: wantsRedact(session), maxBytes: left.bytes, ...cutFor(ctx, ch.folded) });
    if (msgs.length === 0) return;
    // the client asks for older ones itself if it wants them
    const reply = historyReply(server.config.serverName, ch.name, msgs, session, left, 'newest');
    if (reply.kept === 0) { left.bytes = 0; return; } // not even the newest message fits what is left
    left.bytes -= reply.spent.bytes;
    left.lines -= reply.spent.lines;
    for (const line of reply.lines) ctx.send(line);
  } catch (e) {
    server.log.error({ err: e, venue: ch.folded }, 'history replay on join failed');
  }
}
