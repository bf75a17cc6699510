import * as N from '../protocol/numerics.js';
import { safeParam } from '../protocol/validate.js';
import type { CommandContext } from './context.js';
import { defineCommand } from './registry.js';

/** `Server Up <days> days <hours>:<minutes>:<seconds>` (modern.ircdocs.horse#rplstatsuptime-242) */
export function uptimeText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n: number) => String(n).padStart(2, '0');
  return `Server Up ${Math.floor(s / 86400)} days ${Math.floor((s % 86400) / 3600)}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
}

const kb = (bytes: number): string => String(Math.floor(bytes / 1024));

/** u: 242 RPL_STATSUPTIME */
function uptime(ctx: CommandContext): void {
  ctx.numeric(N.RPL_STATSUPTIME, uptimeText(ctx.server.clock.now() - ctx.server.startedAt));
}

/** m: 212 RPL_STATSCOMMANDS `<command> <count>`, commands that ran at least once, by name */
function commands(ctx: CommandContext): void {
  for (const [name, count] of [...ctx.server.commandUsage].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    ctx.numeric(N.RPL_STATSCOMMANDS, name, String(count));
  }
}

/**
 * o: 243 RPL_STATSOLINE `O <hostmask> * <name> <class>` — never a password. `[[oper]]` blocks by
 * name (any host: `*@*`); `oper-password` (any name) as `*`; each oper-dids DID as the host it is
 * accepted from (a SASL login as that DID).
 */
function opers(ctx: CommandContext): void {
  const cfg = ctx.server.config;
  for (const b of cfg.opers) ctx.numeric(N.RPL_STATSOLINE, 'O', '*@*', '*', b.name, b.class);
  if (cfg.operPassword !== undefined) ctx.numeric(N.RPL_STATSOLINE, 'O', '*@*', '*', '*', 'admin');
  for (const did of cfg.operDids) ctx.numeric(N.RPL_STATSOLINE, 'O', did, '*', did, 'admin');
}

/** k: 216 RPL_STATSKLINE `K <target> * <kind> :<reason> (set by, expiry)` for every UBAN */
function bans(ctx: CommandContext): void {
  for (const b of ctx.server.bans.list()) {
    const until = b.expiresAt === undefined ? 'permanent' : `expires ${new Date(b.expiresAt).toISOString()}`;
    ctx.numeric(N.RPL_STATSKLINE, 'K', b.target, '*', b.kind, `${b.reason} (set by ${b.setBy} at ${new Date(b.setAt).toISOString()}, ${until})`);
  }
}

/**
 * l: 211 RPL_STATSLINKINFO `<linkname> <sendq> <sent messages> <sent Kbytes> <received messages>
 * <received Kbytes> <time open>` (RFC 2812 5.1): one line per class of client connections
 * (`clients/<transport>[<open connections>]`, counts since the server started, time open = the
 * server's uptime; sendq = bytes pending to those clients now), then one per federation link
 * (`<server name>[<peer id prefix>]`, since the link opened).
 */
function links(ctx: CommandContext): void {
  const { server } = ctx;
  const now = server.clock.now();
  const up = String(Math.floor((now - server.startedAt) / 1000));
  for (const c of server.clientClasses()) {
    const t = c.traffic;
    ctx.numeric(N.RPL_STATSLINKINFO, `clients/${c.transport}[${c.connections}]`, String(c.sendq), String(t.msgsOut), kb(t.bytesOut), String(t.msgsIn), kb(t.bytesIn), up);
  }
  for (const l of server.federation?.stats() ?? []) {
    ctx.numeric(N.RPL_STATSLINKINFO, `${l.name}[${l.peerId.slice(0, 16)}]`, String(l.sendq), String(l.sentMsgs), kb(l.sentBytes), String(l.recvMsgs), kb(l.recvBytes),
      String(Math.floor((now - l.openedAt) / 1000)));
  }
}

/** the queries, and whether they are for operators only (as solanum's and InspIRCd's defaults: who may become an operator, the bans and the traffic are not public) */
const QUERIES: Record<string, { run(ctx: CommandContext): void; oper: boolean }> = {
  u: { run: uptime, oper: false },
  m: { run: commands, oper: false },
  o: { run: opers, oper: true },
  k: { run: bans, oper: true },
  l: { run: links, oper: true },
};

/**
 * STATS <query> [<server>] — modern.ircdocs.horse#stats-message: "returns … how long the server has
 * been up" (u), "a list of commands supported by the server and the usage count for each if the
 * usage count is non zero" (m), "a list of hosts from which normal clients may become operators"
 * (o), "a list of banned username/hostname combinations" (k), "a list of the server's connections,
 * showing how long each connection has been established and the traffic over that connection in
 * bytes and messages for each direction" (l). Each ends with `219 <letter> :End of /STATS report`;
 * o, k and l answer 481 to non-operators (then 219); an unknown letter gets 219 alone; another
 * server than this one gets 402.
 */
export default defineCommand({
  name: 'STATS',
  minParams: 1,
  help: 'STATS <letter>\nServer statistics: u uptime, m command counts; operators also o (operator blocks), k (server bans), l (connections per class and federation links).',
  run(ctx, [query, target]) {
    if (target !== undefined && target !== ctx.server.config.serverName) { ctx.numeric(N.ERR_NOSUCHSERVER, safeParam(target), 'No such server'); return; }
    const letter = (query ?? '').charAt(0);
    const q = Object.hasOwn(QUERIES, letter) ? QUERIES[letter] : undefined;
    if (q?.oper && !ctx.user.isOper) ctx.numeric(N.ERR_NOPRIVILEGES, 'Permission Denied- You\'re not an IRC operator');
    else q?.run(ctx);
    ctx.numeric(N.RPL_ENDOFSTATS, safeParam(letter || '*'), 'End of /STATS report');
  },
});
