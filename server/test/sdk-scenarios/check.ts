/**
 * Assertions and waits for the SDK scenarios (scenarios.ts), which run in Node and in a browser
 * page alike: no node:assert (it does not bundle for browsers without polyfills), nothing from
 * Node. A failed check throws a CheckError with what was expected and what came.
 */
import type { FreeqClientCore, FreeqClientEvents } from '../../../sdk/src/common.js';

export class CheckError extends Error {
  override name = 'CheckError';
}

/** the longest any wait may take before it counts as a failure (a guard, never a measurement) */
export const WAIT_MS = 15_000;

const show = (v: unknown): string => {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

const prefix = (message: string | undefined): string => (message ? `${message}: ` : '');

export function ok(value: unknown, message = 'expected a truthy value'): asserts value {
  if (!value) throw new CheckError(message);
}

export function equal<T>(actual: T, expected: T, message?: string): void {
  if (!Object.is(actual, expected)) throw new CheckError(`${prefix(message)}expected ${show(expected)}, got ${show(actual)}`);
}

/** structural equality of JSON-like data (primitives, arrays, plain objects) */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export function deepEqual<T>(actual: T, expected: T, message?: string): void {
  if (!same(actual, expected)) throw new CheckError(`${prefix(message)}expected ${show(expected)}, got ${show(actual)}`);
}

export function match(actual: string, re: RegExp, message?: string): void {
  if (!re.test(actual)) throw new CheckError(`${prefix(message)}expected ${show(actual)} to match ${String(re)}`);
}

/** `promise` rejects with an error whose message matches `re` */
export async function rejects(promise: Promise<unknown>, re: RegExp, message?: string): Promise<void> {
  let value: unknown;
  try {
    value = await promise;
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    if (!re.test(text)) throw new CheckError(`${prefix(message)}rejected with ${show(text)}, which does not match ${String(re)}`);
    return;
  }
  throw new CheckError(`${prefix(message)}expected a rejection matching ${String(re)}, got ${show(value)}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The next `event` of `client` for which `pred` holds (every one when there is none), as its
 * arguments. Call it before the action that causes the event. Fails after `timeoutMs`.
 */
export function until<K extends keyof FreeqClientEvents>(
  client: FreeqClientCore, event: K, pred: (...args: FreeqClientEvents[K]) => boolean = () => true, timeoutMs = WAIT_MS,
): Promise<FreeqClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const fn = (...args: FreeqClientEvents[K]): void => {
      if (!pred(...args)) return;
      clearTimeout(timer);
      client.off(event, fn);
      resolve(args);
    };
    const timer = setTimeout(() => {
      client.off(event, fn);
      reject(new CheckError(`${client.nick}: no ${String(event)} event ${pred.toString()} within ${timeoutMs} ms`));
    }, timeoutMs);
    client.on(event, fn);
  });
}

/** Ask `probe` again (briefly spaced) until `done` holds for its answer; fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new CheckError(`${what}: still ${show(value)} after ${timeoutMs} ms`);
    await sleep(20);
  }
}
