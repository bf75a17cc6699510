import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { channelCut, OUTSIDER } from '../../history/cutoff.js';
import type { HistoryReadOptions, HistoryReader, HistoryRef, StoredMessage } from '../../history/types.js';
import { isChannelName } from '../../protocol/validate.js';
import type { Channel } from '../../state/channel.js';
import type { ApiDeps } from '../app.js';
import { bearerToken, unauthorized } from '../auth.js';
import { oneAtATime } from '../one-at-a-time.js';
import { smallest } from '../../util/smallest.js';

/** history page size: default and cap (freeq-reference.md §1.11) */
export const HISTORY_LIMIT = { default: 50, max: 200 } as const;
/** #12 finding 8: GET /api/v1/channels page size, default and cap */
export const CHANNELS_LIMIT = { default: 100, max: 500 } as const;

/** +s/+p: hidden from non-members everywhere (LIST, WHOIS, NAMES); +i/+k: visible but closed */
function restricted(ch: Channel): boolean {
  return ch.modes.s || ch.modes.p || ch.modes.i || ch.modes.k !== undefined;
}

/** The account may read a restricted channel: a user logged in as it is a member, or it is the founder or a DID op. */
function mayRead(ch: Channel, did: string): boolean {
  if (ch.founder === did || ch.didOps.has(did)) return true;
  for (const u of ch.members.keys()) if (u.account === did) return true;
  return false;
}

/** a msgid as this server makes them (a ULID: 26 Crockford base32 digits, session/outgoing.ts newMsgid) */
const MSGID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** ISO 8601 date and time with its zone (Z or ±hh:mm); seconds and their fraction optional */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/**
 * `before` / `after`: a msgid, an ISO 8601 time with its zone, or milliseconds since the epoch;
 * anything else (an empty value, a bare date, 2025-02-30, a word) is undefined: 400 (#16).
 */
function parseRef(v: string): HistoryRef | undefined {
  if (/^\d{1,15}$/.test(v)) return { time: Number(v) };
  if (MSGID.test(v)) return { msgid: v };
  const iso = ISO_TIME.exec(v);
  if (!iso) return undefined;
  // a day the month does not have (Date.parse would roll 02-30 over into March)
  const [y, mo, d] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (mo < 1 || mo > 12 || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : { time: t };
}

/** the CTCP delimiter (modern.ircdocs.horse ctcp: "\x01") */
const CTCP = '\u0001';

/**
 * CTCP ACTION (`/me`, modern.ircdocs.horse ctcp "ACTION": `\x01ACTION <text>\x01`, the final \x01
 * often left out) as `kind: "action"` with the text inside the framing; anything else is
 * `kind: "message"` with its text as sent (#16: the API returned the raw \x01 framing).
 */
function messageBody(text: string): { kind: 'message' | 'action'; text: string } {
  const open = `${CTCP}ACTION`;
  if (!text.startsWith(open)) return { kind: 'message', text };
  let rest = text.slice(open.length);
  if (rest !== '' && rest[0] !== ' ' && rest !== CTCP) return { kind: 'message', text }; // \x01ACTIONS… is not ACTION
  if (rest.endsWith(CTCP)) rest = rest.slice(0, -1);
  return { kind: 'action', text: rest.startsWith(' ') ? rest.slice(1) : rest };
}

function toJson(m: StoredMessage): Record<string, unknown> {
  const bang = m.source.indexOf('!');
  const body = messageBody(m.text ?? '');
  return {
    msgid: m.msgid,
    time: new Date(m.time).toISOString(),
    command: m.command,
    kind: body.kind,
    nick: bang > 0 ? m.source.slice(0, bang) : m.source,
    ...(m.account !== undefined ? { account: m.account } : {}),
    text: body.text,
    ...(m.clientTags && Object.keys(m.clientTags).length ? { tags: m.clientTags } : {}),
  };
}

function notFound(reply: FastifyReply): FastifyReply {
  return reply.code(404).send({ error: 'NotFound' });
}

const badRequest = (reply: FastifyReply, message: string): FastifyReply => reply.code(400).send({ error: 'BadRequest', message });

/** `limit`: absent → the default; a positive integer → clamped to the cap; anything else → undefined (400) */
function parseLimit(raw: string | undefined, bounds: { default: number; max: number }): number | undefined {
  if (raw === undefined) return bounds.default;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1) return undefined;
  return Math.min(Number(raw), bounds.max);
}

/** `]`, has_more and next_before / next_after close the body; a msgid is at most 64 characters */
const SUFFIX_RESERVE = Buffer.byteLength('],"has_more":false,"next_before":""}') + 64;

/** where a page is: the newest (no reference), before a reference (older), or after one (newer) */
type PageAt = { before?: HistoryRef; after?: HistoryRef };

/**
 * #12 finding 2: one history page as a JSON body of at most `maxBytes` (or one message, if a single
 * message is larger: it is always readable). One read of `limit + 1` rows with the store's byte
 * budget (HistoryReadOptions.maxBytes: it stops soon after `maxBytes` of stored text, so rows far
 * past the page are never decrypted); then each row is serialized on its own and the page is cut
 * exactly, so nothing larger than the page is ever built. The byte count is of the body as sent,
 * so a multiline message counts every line. The newest page and a `before` page are cut at their
 * oldest end: `has_more` says older rows exist (cut by bytes, the one past `limit`, or the read
 * itself stopped on its budget) and `next_before` is where the next older page starts. An `after`
 * page (#16) is the oldest `limit` messages after the reference, cut at its newest end, with
 * `next_after` for the next newer page.
 */
function historyPage(reader: HistoryReader, ch: Channel, at: PageAt, limit: number, maxBytes: number, o: HistoryReadOptions): string {
  const head = `{"channel":${JSON.stringify(ch.name)},"messages":[`;
  let bytes = Buffer.byteLength(head) + SUFFIX_RESERVE;
  let unread = false;
  const read: HistoryReadOptions = { ...o, maxBytes, onMaxBytes: () => { unread = true; } };
  const forward = at.after !== undefined;
  const rows = at.after ? reader.after(ch.folded, at.after, limit + 1, read)
    : at.before ? reader.before(ch.folded, at.before, limit + 1, read) : reader.latest(ch.folded, limit + 1, undefined, read);
  // taken from the end the page is cut at: the newest first (backwards) or the oldest first (forwards)
  const order = forward ? rows : [...rows].reverse();
  const parts: string[] = [];
  let edge: StoredMessage | undefined;
  let i = 0;
  for (; i < order.length && parts.length < limit; i++) {
    const json = JSON.stringify(toJson(order[i]!));
    const size = Buffer.byteLength(json) + (parts.length > 0 ? 1 : 0);
    if (parts.length > 0 && bytes + size > maxBytes) break;
    parts.push(json);
    bytes += size;
    edge = order[i];
  }
  const more = i < order.length || unread;
  if (!forward) parts.reverse();
  const key = forward ? 'next_after' : 'next_before';
  const next = more && edge ? `,"${key}":${JSON.stringify(edge.msgid)}` : `,"${key}":null`;
  return `${head}${parts.join(',')}],"has_more":${more}${next}}`;
}

/**
 * The REST read API (issue 5, freeq-reference.md §1.11):
 *
 * - `GET /api/v1/channels?limit=&after=` → `{channels: [{name, topic, members}], next}`: public
 *   channels only (none of +s, +p, +i, +k), sorted by case-folded name, `limit` per page (default
 *   100, at most 500); `next` is the `after` of the next page (a folded name), null on the last
 *   (#12 finding 8). No authentication.
 * - `GET /api/v1/channels/{name}/history?before=&after=&limit=` → `{channel, messages, has_more,
 *   next_before}` (`next_after` with `after`): `name` URL-encoded (`%23freeq`; without a `#`/`&`
 *   prefix `#` is assumed). `limit` defaults to 50 and is capped at 200; `before` / `after` (not
 *   both) is a msgid, an ISO 8601 time with its zone or ms since the epoch (exclusive); anything
 *   else is 400 (#16). Messages are oldest → newest, each with `kind` (`action` for a CTCP ACTION,
 *   its text without the \x01 framing; else `message`). The body is at most
 *   http-history-max-bytes (one larger message still comes, alone), so a page may hold fewer
 *   than `limit`; while `has_more` is true, `next_before` (the first message's msgid) fetches the
 *   next older page (#12 finding 2). PRIVMSG and NOTICE only (no TAGMSG reactions). Requests on
 *   one connection are answered one at a time (http/one-at-a-time.ts).
 *
 * What a reader sees of a channel's history (#12 finding 10): messages said while the channel
 * was +s/+p/+i/+k only with a token whose account may read the channel, and then subject to
 * history-cutoff like CHATHISTORY (history/cutoff.ts); without one, never, even after -s/-k.
 *
 * Who may read: a public channel, anyone. A restricted one (+s/+p/+i/+k) needs
 * `Authorization: Bearer <token>` from the APITOKEN command whose account (DID) may read it: a
 * user logged in as that DID is a member right now, or the DID is the founder or a DID op.
 * Unknown channels, and +s/+p channels the caller may not read, are 404 alike (their existence
 * is never revealed); a +i/+k channel (visible in LIST) answers 401 without a token and 403
 * with a token that may not read it. A malformed, unknown, expired or revoked token is 401 and
 * counts towards the per-IP auth failure limit (429 beyond). Direct-message history is never
 * served here. The general HTTP rate limit (`http-rate-limit`) applies.
 */
export function channelRoutes(app: FastifyInstance, d: ApiDeps): void {
  const { context } = d;

  app.get<{ Querystring: { limit?: string; after?: string } }>('/api/v1/channels', { onRequest: oneAtATime }, async (req, reply) => {
    const limit = parseLimit(req.query.limit, CHANNELS_LIMIT);
    if (limit === undefined) return badRequest(reply, 'limit must be a positive integer');
    const after = req.query.after ?? '';
    // the limit + 1 first names after `after` (the extra one says there is a next page), not a sort of all
    function* candidates(): Generator<string> {
      for (const ch of context.world.channels.values()) if (ch.folded > after && !restricted(ch)) yield ch.folded;
    }
    const names = smallest(candidates(), limit + 1);
    const page = names.slice(0, limit);
    const channels = page.map((f) => {
      const ch = context.world.channels.get(f)!;
      return { name: ch.name, topic: ch.topic?.text ?? null, members: ch.members.size };
    });
    return { channels, next: names.length > limit ? page.at(-1)! : null };
  });

  app.get<{ Params: { name: string }; Querystring: { before?: string; after?: string; limit?: string } }>('/api/v1/channels/:name/history', { onRequest: oneAtATime }, async (req: FastifyRequest<{ Params: { name: string }; Querystring: { before?: string; after?: string; limit?: string } }>, reply) => {
    const raw = req.params.name;
    const name = isChannelName(raw) ? raw : `#${raw}`;
    const ch = context.world.findChannel(name);
    // authenticate first, so the answer for a bad token never depends on the channel
    const header = req.headers.authorization;
    let did: string | undefined;
    if (header !== undefined) {
      const owner = context.apiTokens.verify(bearerToken(req));
      if (!owner) return unauthorized(d.authFailures, req, reply, 'Bearer');
      did = owner.did;
      void reply.header('cache-control', 'no-store');
    }
    if (!ch) return notFound(reply);
    if (restricted(ch) && !(did !== undefined && mayRead(ch, did))) {
      if (ch.hidden) return notFound(reply);
      if (did === undefined) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'Unauthorized' });
      return reply.code(403).send({ error: 'Forbidden' });
    }

    const { before, after } = req.query;
    const limit = parseLimit(req.query.limit, HISTORY_LIMIT);
    if (limit === undefined) return badRequest(reply, 'limit must be a positive integer');
    if (before !== undefined && after !== undefined) return badRequest(reply, 'before and after cannot be combined');
    const at: PageAt = {};
    for (const [name, raw] of [['before', before], ['after', after]] as const) {
      if (raw === undefined) continue;
      const ref = parseRef(raw);
      if (!ref) return badRequest(reply, `${name} must be a msgid, an ISO 8601 time with its zone or milliseconds since the epoch`);
      at[name] = ref;
    }
    // #12 finding 10: what was said while restricted only for readers the channel admits, with history-cutoff
    const cut = did !== undefined ? channelCut(context.config.historyCutoff, ch, { did }) : OUTSIDER;
    const body = historyPage(context.historyReader, ch, at, limit, context.config.httpHistoryMaxBytes, { tagmsg: false, ...cut });
    return reply.type('application/json; charset=utf-8').send(body);
  });
}
