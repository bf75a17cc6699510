import { registerPlugin, findPlugin } from '../../src/plugins/registry.js';
import type { AuthEvent, ConnectEvent, JoinEvent, MessageEvent, NickChangeEvent } from '../../src/plugins/api.js';
import { bootAdmission, type AdmissionServer } from './admission-helpers.js';

/**
 * Test plugins, compiled in the way an embedder would (registerPlugin before the configuration
 * is loaded). `test-recorder` writes every hook call into `recorded`; the others misbehave on
 * purpose.
 */
export type Recorded =
  | { hook: 'onConnect'; e: ConnectEvent }
  | { hook: 'onAuth'; e: AuthEvent }
  | { hook: 'onJoin'; e: JoinEvent }
  | { hook: 'onMessage'; e: MessageEvent }
  | { hook: 'onNickChange'; e: NickChangeEvent };

export const recorded: Recorded[] = [];

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* a hook that hogs the event loop */ }
}

export function registerTestPlugins(): void {
  if (findPlugin('test-recorder')) return;
  registerPlugin({
    name: 'test-recorder',
    description: 'records every hook call; display=<h> sets the displayed handle on auth',
    options: { display: 'displayed handle to set on auth' },
    create: (o) => ({
      name: 'test-recorder',
      onConnect: (e) => { recorded.push({ hook: 'onConnect', e }); },
      onAuth: (e) => { recorded.push({ hook: 'onAuth', e }); return o.display ? { displayHandle: o.display } : undefined; },
      onJoin: (e) => { recorded.push({ hook: 'onJoin', e }); },
      onMessage: (e) => { recorded.push({ hook: 'onMessage', e }); },
      onNickChange: (e) => { recorded.push({ hook: 'onNickChange', e }); },
    }),
  });
  registerPlugin({
    name: 'test-thrower',
    description: 'throws from every hook',
    options: {},
    create: () => ({
      name: 'test-thrower',
      onConnect() { throw new Error('boom in onConnect'); },
      onAuth() { throw new Error('boom in onAuth'); },
      onJoin() { throw new Error('boom in onJoin'); },
      onMessage() { throw new Error('boom in onMessage'); },
      onNickChange() { throw new Error('boom in onNickChange'); },
    }),
  });
  registerPlugin({
    name: 'test-slow',
    description: 'onMessage busy-waits ms milliseconds, then rewrites the text to SLOW',
    options: { ms: 'how long onMessage takes' },
    create: (o) => ({
      name: 'test-slow',
      onMessage() { busyWait(Number(o.ms ?? 100)); return { action: 'rewrite', text: 'SLOW' }; },
    }),
  });
  registerPlugin({
    name: 'test-bad-result',
    description: 'onMessage returns a rewrite with a CRLF in it (an injection attempt)',
    options: {},
    create: () => ({
      name: 'test-bad-result',
      onMessage: () => ({ action: 'rewrite', text: 'x\r\nQUIT :injected' }),
    }),
  });
}

/** Boot with plugins (fakelag and message-rate out of the way, as bootServer does). */
export async function bootWithPlugins(cli: Record<string, unknown>): Promise<AdmissionServer> {
  registerTestPlugins();
  return bootAdmission({ fakelag: false, 'message-rate': 100000, ...cli });
}

export function hooks<H extends Recorded['hook']>(hook: H): Extract<Recorded, { hook: H }>['e'][] {
  const out: unknown[] = recorded.filter((r) => r.hook === hook).map((r) => r.e);
  return out as never;
}
