/**
 * What a scenario may ask of the server's side, which always runs in Node (host.ts): restart the
 * server, drop a connection, and a plain IRC client over TCP to talk with. In Node the scenarios
 * call the host directly; in a browser page they call it through one function the test exposes
 * (playwright's page.exposeFunction): `controlOver` builds the page's end, `serveControl` the
 * test's. Arguments and results cross as JSON, so a RegExp travels as its source and flags.
 */

export interface ServerControl {
  /** stop the server and start it again (same ports, same data dir): every connection drops; resolves once it listens */
  restart(): Promise<void>;
  /** an operator KILLs `nick`: the server drops that connection (for the client a lost connection, not a quit) */
  kill(nick: string, reason: string): Promise<void>;
  /** a plain IRC client over TCP (test/harness/raw-client.ts), registered as `nick` with `caps` */
  peerConnect(nick: string, caps?: string[]): Promise<void>;
  /** raw lines from peer `nick` */
  peerSend(nick: string, ...lines: string[]): Promise<void>;
  /** the next line peer `nick` receives that matches `re` (the lines before it are skipped) */
  peerExpect(nick: string, re: RegExp): Promise<string>;
}

/** the wire: an operation's name and its JSON arguments */
export type ControlCall = (op: string, args: unknown[]) => Promise<unknown>;

/** The page's end: a ServerControl whose every call goes through `call`. */
export function controlOver(call: ControlCall): ServerControl {
  return {
    restart: async () => { await call('restart', []); },
    kill: async (nick, reason) => { await call('kill', [nick, reason]); },
    peerConnect: async (nick, caps) => { await call('peerConnect', [nick, caps ?? null]); },
    peerSend: async (nick, ...lines) => { await call('peerSend', [nick, ...lines]); },
    peerExpect: async (nick, re) => String(await call('peerExpect', [nick, re.source, re.flags])),
  };
}

const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string') throw new Error(`${what}: expected a string, got ${JSON.stringify(v)}`);
  return v;
};

/** The test's end: one call from the page, run against `control`. */
export async function serveControl(control: ServerControl, op: string, args: unknown[]): Promise<unknown> {
  switch (op) {
    case 'restart': return control.restart();
    case 'kill': return control.kill(str(args[0], 'nick'), str(args[1], 'reason'));
    case 'peerConnect': {
      const caps = args[1] === null || args[1] === undefined ? undefined : (args[1] as unknown[]).map((c) => str(c, 'cap'));
      return control.peerConnect(str(args[0], 'nick'), caps);
    }
    case 'peerSend': return control.peerSend(str(args[0], 'nick'), ...args.slice(1).map((l) => str(l, 'line')));
    case 'peerExpect': return control.peerExpect(str(args[0], 'nick'), new RegExp(str(args[1], 'pattern'), str(args[2], 'flags')));
    default: throw new Error(`no server operation ${JSON.stringify(op)}`);
  }
}
