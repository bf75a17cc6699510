import * as N from '../protocol/numerics.js';
import { safeParam } from '../protocol/validate.js';
import * as S from '../auth/sasl/numerics.js';
import { SASL_CAP, advertisedCaps, isAdvertised } from '../session/caps.js';
import { abortSasl } from './authenticate.js';
import type { CommandContext } from './context.js';
import { defineCommand } from './registry.js';
import { tryCompleteRegistration } from './registration.js';

/** Bytes of capability list per CAP line: `:<server> CAP <nick> LS * :` + this stays under 512. */
const CAP_LINE_BYTES = 380;

/**
 * LS / LIST reply. Version 302 clients get continuation lines (`*` before the list on all but
 * the last); older clients one line ("multiline LS and LIST replies must only be used for 302").
 */
function capReply(ctx: CommandContext, sub: string, items: string[], multiline: boolean): void {
  const nick = ctx.user.nick;
  const lines: string[] = [];
  let cur = '';
  for (const it of items) {
    if (multiline && cur && cur.length + it.length + 1 > CAP_LINE_BYTES) { lines.push(cur); cur = it; }
    else cur = cur ? `${cur} ${it}` : it;
  }
  lines.push(cur);
  lines.forEach((l, i) => {
    const more = i < lines.length - 1;
    ctx.send({ tags: new Map(), source: ctx.server.config.serverName, command: 'CAP', params: more ? [nick, sub, '*', l] : [nick, sub, l] });
  });
}

/** CAP LS/LIST/REQ/END — https://ircv3.net/specs/extensions/capability-negotiation */
export default defineCommand({
  name: 'CAP',
  minParams: 1,
  preReg: true,
  help: 'CAP LS [302] | CAP LIST | CAP REQ :<caps> | CAP END\nIRCv3 capability negotiation.',
  run(ctx, [subRaw, arg]) {
    const s = ctx.session;
    const sub = subRaw!.toUpperCase();
    switch (sub) {
      case 'LS': {
        if (!ctx.user.registered) s.capNegotiating = true;
        // "MUST be treated as a number"; a non-number is version 0
        const v = Number.parseInt(arg ?? '0', 10) || 0;
        if (v >= 302) {
          s.capVersion = Math.max(s.capVersion, 302);
          s.setCap('cap-notify', true); // implicitly enabled for 302 clients
        }
        // the reply follows this request's version; the stored (highest) version is kept
        const v302 = v >= 302;
        const items = advertisedCaps(ctx.server.config).map((c) => (v302 && c.value ? `${c.name}=${c.value}` : c.name));
        capReply(ctx, 'LS', items, v302);
        return;
      }
      case 'LIST':
        capReply(ctx, 'LIST', [...s.caps].sort(), s.capVersion >= 302);
        return;
      case 'REQ': {
        if (!ctx.user.registered) s.capNegotiating = true;
        const wanted = (arg ?? '').split(' ').filter(Boolean);
        const ok = wanted.length > 0 && wanted.every((w) => {
          const name = w.startsWith('-') ? w.slice(1) : w;
          if (!isAdvertised(ctx.server.config, name)) return false;
          // cap-notify cannot be disabled by a 302 client (it is implied by the version)
          return !(w === '-cap-notify' && s.capVersion >= 302);
        });
        if (!ok) {
          ctx.send({ tags: new Map(), source: ctx.server.config.serverName, command: 'CAP', params: [ctx.user.nick, 'NAK', arg ?? ''] });
          return;
        }
        for (const w of wanted) s.setCap(w.replace(/^-/, ''), !w.startsWith('-'));
        // disabling sasl ends an exchange in progress (silently: the client asked for it)
        if (wanted.includes(`-${SASL_CAP}`)) abortSasl(s);
        ctx.send({ tags: new Map(), source: ctx.server.config.serverName, command: 'CAP', params: [ctx.user.nick, 'ACK', wanted.join(' ')] });
        return;
      }
      case 'END':
        if (ctx.user.registered) return;
        // sasl-3.1: registering while SASL is in progress SHOULD abort it with 906; the client
        // then registers without a login
        if (abortSasl(s)) ctx.numeric(S.ERR_SASLABORTED, S.TEXT_SASLABORTED);
        s.capNegotiating = false;
        tryCompleteRegistration(ctx);
        return;
      default:
        ctx.numeric(N.ERR_INVALIDCAPCMD, safeParam(subRaw), 'Invalid CAP command');
    }
  },
});
