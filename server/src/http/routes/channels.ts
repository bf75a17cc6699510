import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HistoryRef, StoredMessage } from '../../history/types.js';
import { isChannelName } from '../../protocol/validate.js';
import type { Channel } from '../../state/channel.js';
import type { ApiDeps } from '../app.js';
import { bearerToken, refuseIfBlocked, unauthorized } from '../auth.js';

/** history page size: default and cap (freeq-reference.md §1.11) */
export const HISTORY_LIMIT = { default: 50, max: 200 } as const;

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

/** `before`: an ISO 8601 timestamp, milliseconds since the epoch, or a msgid */
function parseBefore(v: string): HistoryRef | undefined {
  if (/^\d{1,15}$/.test(v)) return { time: Number(v) };
  if (/^\d{4}-\d{2}-\d{2}T/.test(v)) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : { time: t };
  }
  return /^[A-Za-z0-9_-]{1,64}$/.test(v) ? { msgid: v } : undefined;
}

function toJson(m: StoredMessage): Record<string, unknown> {
  const bang = m.source.indexOf('!');
  return {
    msgid: m.msgid,
    time: new Date(m.time).toISOString(),
    command: m.command,
    nick: bang > 0 ? m.source.slice(0, bang) : m.source,
    ...(m.account !== undefined ? { account: m.account } : {}),
    text: m.text ?? '',
    ...(m.clientTags && Object.keys(m.clientTags).length ? { tags: m.clientTags } : {}),
  };
}

function notFound(reply: FastifyReply): FastifyReply {
  return reply.code(404).send({ error: 'NotFound' });
}

/**
 * The REST read API (issue 5, freeq-reference.md §1.11):
 *
 * - `GET /api/v1/channels` → `{channels: [{name, topic, members}]}`: public channels only
 *   (none of +s, +p, +i, +k), sorted by name. No authentication.
 * - `GET /api/v1/channels/{name}/history?before=&limit=` → `{channel, messages, has_more}`:
 *   `name` URL-encoded (`%23freeq`; without a `#`/`&` prefix `#` is assumed). `limit` defaults
 *   to 50 and is capped at 200; `before` is a msgid, an ISO 8601 time or ms since the epoch
 *   (exclusive). Messages are oldest → newest; the next older page is `before=<first msgid>`
 *   while `has_more` is true. PRIVMSG and NOTICE only (no TAGMSG reactions).
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

  app.get('/api/v1/channels', async () => {
    const channels = [...context.world.channels.values()]
      .filter((ch) => !restricted(ch))
      .sort((a, b) => (a.folded < b.folded ? -1 : a.folded > b.folded ? 1 : 0))
      .map((ch) => ({ name: ch.name, topic: ch.topic?.text ?? null, members: ch.members.size }));
    return { channels };
  });

  app.get<{ Params: { name: string }; Querystring: { before?: string; limit?: string } }>('/api/v1/channels/:name/history', async (req: FastifyRequest<{ Params: { name: string }; Querystring: { before?: string; limit?: string } }>, reply) => {
    const raw = req.params.name;
    const name = isChannelName(raw) ? raw : `#${raw}`;
    const ch = context.world.findChannel(name);
    // authenticate first, so the answer for a bad token never depends on the channel
    const header = req.headers.authorization;
    let did: string | undefined;
    if (header !== undefined) {
      if (refuseIfBlocked(d.authFailures, req, reply, d.authBlocked)) return reply;
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

    const { before, limit: limitRaw } = req.query;
    let limit: number = HISTORY_LIMIT.default;
    if (limitRaw !== undefined) {
      if (!/^\d{1,6}$/.test(limitRaw) || Number(limitRaw) < 1) return reply.code(400).send({ error: 'BadRequest', message: 'limit must be a positive integer' });
      limit = Math.min(Number(limitRaw), HISTORY_LIMIT.max);
    }
    let ref: HistoryRef | undefined;
    if (before !== undefined) {
      ref = parseBefore(before);
      if (!ref) return reply.code(400).send({ error: 'BadRequest', message: 'before must be a msgid, an ISO 8601 time or milliseconds since the epoch' });
    }
    const opts = { tagmsg: false };
    // one more than asked: whether an older page exists
    const rows = ref ? context.historyReader.before(ch.folded, ref, limit + 1, opts) : context.historyReader.latest(ch.folded, limit + 1, undefined, opts);
    const hasMore = rows.length > limit;
    const page = hasMore ? rows.slice(rows.length - limit) : rows;
    return { channel: ch.name, messages: page.map(toJson), has_more: hasMore };
  });
}
