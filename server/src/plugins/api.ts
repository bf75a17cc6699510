/**
 * The plugin hook API (seed 004: on_connect, on_auth, on_join, on_message, on_nick_change).
 * Hooks are synchronous and get plain data, never live server objects. A hook that throws is
 * logged and skipped; one that exceeds its time budget is logged; a plugin that keeps doing
 * either is disabled (plugins/manager.ts). Nothing a plugin does crashes the server.
 */
export interface ConnectEvent { sessionId: number; ip: string; transport: string }
export interface AuthEvent { nick: string; did: string; handle?: string }
/** onAuth may change the DISPLAYED handle only; the account used for authorization never changes */
export interface AuthResult { displayHandle?: string }
export interface JoinEvent { nick: string; account?: string; channel: string; created: boolean }
/** `text`: a draft/multiline message has its lines joined with \n (a rewrite may keep them) */
export interface MessageEvent { nick: string; account?: string; command: 'PRIVMSG' | 'NOTICE'; target: string; text: string }
export type MessageDecision = { action: 'allow' } | { action: 'rewrite'; text: string } | { action: 'suppress'; reason?: string };
export interface NickChangeEvent { oldNick: string; newNick: string; account?: string }

/** What a plugin may do back: say things as the server, never mutate state directly. */
export interface PluginHost {
  /** a NOTICE from the server to one user (by nick) */
  noticeUser(nick: string, text: string): void;
  /** a NOTICE from the server to a channel */
  noticeChannel(channel: string, text: string): void;
  log: { info(msg: string): void; warn(msg: string): void };
}

export interface Plugin {
  readonly name: string;
  onConnect?(e: ConnectEvent): void;
  onAuth?(e: AuthEvent): AuthResult | void;
  onJoin?(e: JoinEvent): void;
  onMessage?(e: MessageEvent): MessageDecision | void;
  onNickChange?(e: NickChangeEvent): void;
}

export type PluginFactory = (options: Record<string, string>, host: PluginHost) => Plugin;

/** What the rest of the server calls (plugins/manager.ts). */
export interface PluginPort {
  onConnect(e: ConnectEvent): void;
  onAuth(e: AuthEvent): AuthResult;
  onJoin(e: JoinEvent): void;
  onMessage(e: MessageEvent): MessageDecision;
  onNickChange(e: NickChangeEvent): void;
}

/** No plugins: everything allowed, nothing changed. */
export const NO_PLUGINS: PluginPort = {
  onConnect() {},
  onAuth() { return {}; },
  onJoin() {},
  onMessage() { return { action: 'allow' }; },
  onNickChange() {},
};
