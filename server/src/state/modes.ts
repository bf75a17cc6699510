import type { ModeChange } from './events.js';
import { ALL_CHANNEL_MODES, CHANMODES, PREFIX_MODE_LETTERS, USER_MODES } from '../protocol/mode-letters.js';

// The letters live in protocol/ (ISUPPORT needs them); re-exported here for state/ and commands/.
export { ALL_CHANNEL_MODES, CHANMODES, CHANMODES_TOKEN, PREFIX_MODE_LETTERS, USER_MODES } from '../protocol/mode-letters.js';

export interface ParsedModes {
  changes: ModeChange[];
  /** `MODE #c b` / `MODE #c +e` with no parameter: list queries */
  listQueries: string[];
  unknown: string[];
  /** a mode that needs a parameter got none (e.g. `+k` alone) */
  missingParam: string[];
}

function needsParam(mode: string, adding: boolean): boolean {
  if (PREFIX_MODE_LETTERS.includes(mode) || CHANMODES.A.includes(mode)) return true;
  if (CHANMODES.B.includes(mode)) return adding; // -k takes no parameter from us (accepted, ignored)
  if (CHANMODES.C.includes(mode)) return adding;
  return false;
}

/**
 * Split `+o-v+b nick1 nick2 mask` into single changes. At most `maxParamModes` changes that
 * take a parameter are kept (MODES); the rest is dropped as Ergo and InspIRCd do.
 */
export function parseChannelModes(modestr: string, params: string[], maxParamModes: number): ParsedModes {
  const out: ParsedModes = { changes: [], listQueries: [], unknown: [], missingParam: [] };
  let adding = true;
  let pi = 0;
  let withParam = 0;
  for (const c of modestr) {
    if (c === '+') { adding = true; continue; }
    if (c === '-') { adding = false; continue; }
    if (!ALL_CHANNEL_MODES.includes(c)) { if (!out.unknown.includes(c)) out.unknown.push(c); continue; }
    if (CHANMODES.A.includes(c) && pi >= params.length) {
      if (!out.listQueries.includes(c)) out.listQueries.push(c);
      continue;
    }
    if (needsParam(c, adding)) {
      const p = params[pi++];
      if (p === undefined || p === '') { out.missingParam.push(c); continue; }
      if (withParam >= maxParamModes) continue;
      withParam++;
      out.changes.push({ adding, mode: c, param: p });
    } else {
      if (!adding && c === 'k' && pi < params.length) pi++; // swallow the key some clients send with -k
      out.changes.push({ adding, mode: c });
    }
  }
  return out;
}

export interface ParsedUserModes { changes: ModeChange[]; unknown: boolean }

/**
 * `+iw-x`; `+s` takes the next of `params` when there is one: the server notice mask
 * (`MODE me +s +cq`, session/server-notices.ts), as on InspIRCd and Ergo.
 */
export function parseUserModes(modestr: string, params: readonly string[] = []): ParsedUserModes {
  const changes: ModeChange[] = [];
  let adding = true;
  let unknown = false;
  let pi = 0;
  for (const c of modestr) {
    if (c === '+') { adding = true; continue; }
    if (c === '-') { adding = false; continue; }
    if (!USER_MODES.includes(c)) { unknown = true; continue; }
    const param = c === 's' && adding ? params[pi++] : undefined;
    changes.push(param !== undefined ? { adding, mode: c, param } : { adding, mode: c });
  }
  return { changes, unknown };
}

/** Render changes as MODE params: `+ov-k nick1 nick2` → ['+ov-k', 'nick1', 'nick2'] */
export function renderModeChanges(changes: ModeChange[]): string[] {
  let s = '';
  let dir = '';
  const params: string[] = [];
  for (const ch of changes) {
    const d = ch.adding ? '+' : '-';
    if (d !== dir) { s += d; dir = d; }
    s += ch.mode;
    if (ch.param !== undefined) params.push(ch.param);
  }
  return [s, ...params];
}

/** `+iw` for RPL_UMODEIS, letters in USER_MODES order (`+` alone when none are set). */
export function userModeString(modes: { has(m: string): boolean }): string {
  return '+' + [...USER_MODES].filter((m) => modes.has(m)).join('');
}
