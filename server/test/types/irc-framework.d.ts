// Minimal typings for the parts of irc-framework (which ships none) the tests use.
declare module 'irc-framework' {
  import { EventEmitter } from 'node:events';

  export interface MessageEvent {
    nick: string;
    ident: string;
    hostname: string;
    target: string;
    message: string;
    type: string;
  }

  export class Client extends EventEmitter {
    constructor(options?: Record<string, unknown>);
    connect(options?: { host?: string; port?: number; nick?: string; username?: string; gecos?: string; tls?: boolean; auto_reconnect?: boolean }): void;
    join(channel: string, key?: string): void;
    say(target: string, message: string): void;
    /** WHOIS; the callback gets the parsed reply (`account` from 330) */
    whois(nick: string, cb: (w: { nick: string; account?: string } & Record<string, unknown>) => void): void;
    quit(message?: string): void;
    /** MONITOR + <target>; 730/731 come as 'users online' / 'users offline' ({ nicks }) */
    addMonitor(target: string): void;
    readonly connected: boolean;
    readonly user: { nick: string };
    network: { cap: { enabled: string[] } };
  }

  const IRC: { Client: typeof Client };
  export default IRC;
}
