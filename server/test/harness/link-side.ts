import type { LinkEvents, LinkLog, S2sLink } from '../../src/federation/link.js';
import type { S2sMessage } from '../../src/federation/messages.js';

// One side of a federation link in the transport tests (test/unit/federation/tls-link.test.ts,
// iroh-link.test.ts): what it logged, the links that came up, the messages and the closes.

export interface Side {
  log: LinkLog;
  lines: { level: string; msg: string; obj: Record<string, unknown> }[];
  events: LinkEvents;
  ups: S2sLink[];
  msgs: S2sMessage[];
  closes: string[];
}

export function side(): Side {
  const lines: Side['lines'] = [];
  const ups: S2sLink[] = [];
  const msgs: S2sMessage[] = [];
  const closes: string[] = [];
  return {
    lines, ups, msgs, closes,
    log: { info: (obj, msg) => lines.push({ level: 'info', msg, obj: obj as Record<string, unknown> }), warn: (obj, msg) => lines.push({ level: 'warn', msg, obj: obj as Record<string, unknown> }) },
    events: { up: (l) => ups.push(l), message: (_l, m) => msgs.push(m), closed: (_l, r) => closes.push(r) },
  };
}
