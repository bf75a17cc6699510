import type { AuthEvent, AuthResult, ConnectEvent, JoinEvent, MessageDecision, MessageEvent, NickChangeEvent, PluginPort } from './api.js';

/**
 * The PluginPort the server holds (#16): it calls whatever set of plugins is current, so a REHASH
 * that changes the plugin configuration replaces them (rehash.ts) without anyone holding the old
 * set. The new plugins start from nothing (their state, strikes and disabled flags are new).
 */
export class PluginSwitch implements PluginPort {
  constructor(private current: PluginPort) {}

  /** the plugins from now on; returns the ones replaced */
  replace(next: PluginPort): PluginPort {
    const old = this.current;
    this.current = next;
    return old;
  }

  get active(): PluginPort { return this.current; }

  onConnect(e: ConnectEvent): void { this.current.onConnect(e); }
  onAuth(e: AuthEvent): AuthResult { return this.current.onAuth(e); }
  onJoin(e: JoinEvent): void { this.current.onJoin(e); }
  onMessage(e: MessageEvent): MessageDecision { return this.current.onMessage(e); }
  onNickChange(e: NickChangeEvent): void { this.current.onNickChange(e); }
}
