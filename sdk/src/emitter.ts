/** A small typed event emitter (browser-free, no Node EventEmitter `error` semantics). */

export type EventMap = { [event: string]: unknown[] };
export type Listener<A extends unknown[]> = (...args: A) => void;

export class TypedEmitter<E extends EventMap> {
  private readonly listeners = new Map<keyof E, Set<Listener<never[]>>>();

  on<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as unknown as Listener<never[]>);
    return this;
  }

  once<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    const wrap: Listener<E[K]> = (...args) => {
      this.off(event, wrap);
      fn(...args);
    };
    return this.on(event, wrap);
  }

  off<K extends keyof E>(event: K, fn: Listener<E[K]>): this {
    this.listeners.get(event)?.delete(fn as unknown as Listener<never[]>);
    return this;
  }

  /** Resolve with the arguments of the next `event` (rejects after `timeoutMs` when given). */
  next<K extends keyof E>(event: K, timeoutMs?: number): Promise<E[K]> {
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const fn: Listener<E[K]> = (...args) => {
        if (timer) clearTimeout(timer);
        resolve(args);
      };
      this.once(event, fn);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.off(event, fn);
          reject(new Error(`timed out waiting for ${String(event)}`));
        }, timeoutMs);
      }
    });
  }

  /**
   * Call the listeners. A throwing listener does not stop the others or the client; its error is
   * reported as an `error` event (or, from an `error` listener, dropped).
   */
  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as unknown as Listener<E[K]>)(...args);
      } catch (err) {
        if (event !== 'error') (this.emit as (e: string, ...a: unknown[]) => void)('error', err instanceof Error ? err : new Error(String(err)));
      }
    }
  }
}
