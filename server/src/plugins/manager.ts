import { performance } from 'node:perf_hooks';
import type { Logger } from '../observability/log.js';
import type {
  AuthEvent, AuthResult, ConnectEvent, JoinEvent, MessageDecision, MessageEvent, NickChangeEvent, Plugin, PluginHost, PluginPort,
} from './api.js';
import { findPlugin, type PluginSpec } from './registry.js';

/** What plugins may say back (plugins/host.ts implements it over the live server). */
export type PluginOutput = Pick<PluginHost, 'noticeUser' | 'noticeChannel'>;

export interface PluginManagerOptions {
  /** enabled plugins in configuration order (already validated by config/load.ts) */
  specs: readonly PluginSpec[];
  /** a hook call longer than this (ms) is an overrun: logged, its result ignored */
  hookBudgetMs: number;
  /** consecutive errors/overruns after which a plugin is disabled until restart */
  maxStrikes: number;
  output: PluginOutput;
  log: Logger;
  /** metrics.limitHit: kinds `plugin-error` and `plugin-overrun` */
  limitHit(kind: 'plugin-error' | 'plugin-overrun'): void;
}

interface Loaded {
  readonly plugin: Plugin;
  readonly log: Logger;
  strikes: number;
  disabled: boolean;
}

type HookName = 'onConnect' | 'onAuth' | 'onJoin' | 'onMessage' | 'onNickChange';

/** No CR, LF or NUL (they would end or corrupt an IRC line), not empty. */
function isLineSafe(s: unknown): s is string {
  return typeof s === 'string' && s !== '' && !/[\r\n\0]/.test(s);
}

/** A displayed handle: one visible token (it appears inside numerics), at most 253 characters. */
function isDisplayHandle(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && s.length <= 253 && !/[\s\p{Cc}]/u.test(s);
}

/**
 * The PluginPort the server calls (plugins/api.ts). For every hook, each enabled plugin that
 * implements it runs in configuration order, inside its own try/catch and stopwatch:
 *
 * - a hook that throws (or returns something that is not a valid result) is logged at warn,
 *   counted as `freeq_limit_hits_total{kind="plugin-error"}`, and skipped: the next plugin runs
 *   and the server carries on as if that plugin had returned nothing;
 * - a hook that takes longer than `plugin-hook-budget` is logged at warn and counted as
 *   `plugin-overrun`. Hooks are synchronous, so the time is already spent when we notice: its
 *   result is still used (ignoring it would only make a word filter leak a message because of
 *   one garbage-collection pause), but the overrun counts as a strike;
 * - after `plugin-max-strikes` consecutive errors/overruns the plugin is disabled (skipped)
 *   until the server restarts (error log); one good call resets the count.
 *
 * Decisions: onMessage — the first `suppress` wins (later plugins are not asked), `rewrite`s
 * chain (each plugin sees the text as rewritten so far). onAuth — `displayHandle` changes only
 * the displayed handle (user.handle); the last valid one wins; the account (DID) is never
 * touched. Each plugin gets its own copy of the event.
 */
export class PluginManager implements PluginPort {
  private readonly loaded: Loaded[] = [];

  constructor(private readonly o: PluginManagerOptions) {
    for (const spec of o.specs) {
      const def = findPlugin(spec.name);
      const log = o.log.child({ plugin: spec.name });
      if (!def) { log.error('unknown plugin: not enabled'); continue; }
      const host: PluginHost = {
        noticeUser: (nick, text) => o.output.noticeUser(nick, text),
        noticeChannel: (channel, text) => o.output.noticeChannel(channel, text),
        log: { info: (msg) => log.info(String(msg)), warn: (msg) => log.warn(String(msg)) },
      };
      try {
        const plugin = def.create({ ...spec.options }, host);
        this.loaded.push({ plugin, log, strikes: 0, disabled: false });
        log.info({ options: Object.keys(spec.options) }, 'plugin enabled');
      } catch (err) {
        // a plugin that cannot start is left out; the server runs without it
        log.error({ err }, 'plugin failed to start: not enabled');
      }
    }
  }

  /** names of the plugins currently running (disabled ones are left out) */
  get active(): string[] {
    return this.loaded.filter((l) => !l.disabled).map((l) => l.plugin.name);
  }

  get size(): number {
    return this.loaded.length;
  }

  /**
   * Run one plugin's hook under the guard. `check` validates the result (true = acceptable).
   * Returns the result, or undefined when the plugin has no such hook, failed or overran.
   */
  private call<E, R>(l: Loaded, hook: HookName, e: E, check: (r: unknown) => boolean = () => true): R | undefined {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with l.plugin as `this`
    const fn = l.plugin[hook] as ((ev: E) => unknown) | undefined;
    if (l.disabled || typeof fn !== 'function') return undefined;
    const t0 = performance.now();
    let result: unknown;
    let failed = false;
    try {
      result = fn.call(l.plugin, { ...e });
      if (result !== undefined && !check(result)) {
        failed = true;
        // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects take the JSON branch
        l.log.warn({ hook, result: typeof result === 'object' ? JSON.stringify(result)?.slice(0, 200) : String(result).slice(0, 200) }, 'plugin hook returned an invalid result: ignored');
      }
    } catch (err) {
      failed = true;
      l.log.warn({ hook, err }, 'plugin hook threw: skipped');
    }
    const ms = performance.now() - t0;
    let strike = failed;
    if (failed) {
      this.o.limitHit('plugin-error');
    } else if (ms > this.o.hookBudgetMs) {
      strike = true;
      this.o.limitHit('plugin-overrun');
      l.log.warn({ hook, ms: Math.round(ms * 10) / 10, budgetMs: this.o.hookBudgetMs }, 'plugin hook exceeded its time budget');
    }
    if (!strike) l.strikes = 0;
    else if (++l.strikes >= this.o.maxStrikes) {
      l.disabled = true;
      l.log.error({ hook, strikes: l.strikes }, 'plugin disabled after repeated errors or overruns (until restart)');
    }
    return failed ? undefined : result as R;
  }

  onConnect(e: ConnectEvent): void {
    for (const l of this.loaded) this.call(l, 'onConnect', e);
  }

  onAuth(e: AuthEvent): AuthResult {
    let handle = e.handle;
    let changed = false;
    for (const l of this.loaded) {
      const r = this.call<AuthEvent, AuthResult>(l, 'onAuth', { ...e, handle }, (x) => typeof x === 'object' && x !== null
        && ((x as AuthResult).displayHandle === undefined || isDisplayHandle((x as AuthResult).displayHandle)));
      if (r?.displayHandle !== undefined) { handle = r.displayHandle; changed = true; }
    }
    return changed && handle !== undefined ? { displayHandle: handle } : {};
  }

  onJoin(e: JoinEvent): void {
    for (const l of this.loaded) this.call(l, 'onJoin', e);
  }

  onMessage(e: MessageEvent): MessageDecision {
    let text = e.text;
    let rewritten = false;
    // a multiline (draft/multiline) message arrives with its lines joined by \n and may keep them
    const multiline = e.text.includes('\n');
    for (const l of this.loaded) {
      const d = this.call<MessageEvent, MessageDecision>(l, 'onMessage', { ...e, text }, (x) => validDecision(x, multiline));
      if (!d || d.action === 'allow') continue;
      if (d.action === 'suppress') return { action: 'suppress', reason: d.reason };
      text = d.text;
      rewritten = true;
    }
    return rewritten && text !== e.text ? { action: 'rewrite', text } : { action: 'allow' };
  }

  onNickChange(e: NickChangeEvent): void {
    for (const l of this.loaded) this.call(l, 'onNickChange', e);
  }
}

function validDecision(d: unknown, multiline: boolean): boolean {
  if (typeof d !== 'object' || d === null) return false;
  const x = d as { action?: unknown; text?: unknown; reason?: unknown };
  switch (x.action) {
    case 'allow': return true;
    case 'suppress': return x.reason === undefined || typeof x.reason === 'string';
    case 'rewrite': return isLineSafe(x.text) || (multiline && typeof x.text === 'string' && x.text !== '' && !/[\r\0]/.test(x.text));
    default: return false;
  }
}
