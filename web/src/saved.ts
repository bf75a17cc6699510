/**
 * What a reload restores (#15): the nick (and whether it was a Bluesky login), the channels joined (in order) and the
 * conversation shown, kept in localStorage under one key. Never a secret: no password, no token,
 * no channel key. Leaving a channel takes it off the list; logging out forgets everything.
 */
export interface Saved {
  nick: string;
  channels: string[];
  /** the conversation shown */
  current?: string;
  /** logged in with Bluesky: a reload asks the server for a login token (the session is an HttpOnly cookie) */
  bluesky?: boolean;
}

/** the part of localStorage used (tests pass a Map-backed one) */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const SAVED_KEY = 'freeq.saved';
/** channels kept at most (a page that joined more restores the first ones) */
const MAX_CHANNELS = 50;

/** the page's localStorage, or undefined where there is none or it is refused (some private modes) */
export function browserStore(): KeyValueStore | undefined {
  try {
    return (globalThis as { localStorage?: KeyValueStore }).localStorage;
  } catch {
    return undefined;
  }
}

const isChannel = (c: unknown): c is string => typeof c === 'string' && /^[#&][^\s,]{1,63}$/.test(c);

/** what was saved, if anything valid was */
export function loadSaved(store: KeyValueStore | undefined): Saved | undefined {
  try {
    const v = JSON.parse(store?.getItem(SAVED_KEY) ?? 'null') as Partial<Saved> | null;
    if (!v || typeof v.nick !== 'string' || !/^\S{1,64}$/.test(v.nick)) return undefined;
    const channels = Array.isArray(v.channels) ? v.channels.filter(isChannel).slice(0, MAX_CHANNELS) : [];
    return { nick: v.nick, channels, ...(typeof v.current === 'string' && v.current ? { current: v.current } : {}), ...(v.bluesky === true ? { bluesky: true } : {}) };
  } catch {
    return undefined; // not JSON, or storage refused
  }
}

/** keep `s` (undefined: forget) */
export function storeSaved(store: KeyValueStore | undefined, s: Saved | undefined): void {
  try {
    if (s) store?.setItem(SAVED_KEY, JSON.stringify(s));
    else store?.removeItem(SAVED_KEY);
  } catch {
    // full, or refused: the page works the same, a reload just does not restore
  }
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

export const withChannel = (s: Saved, channel: string): Saved =>
  (s.channels.some((c) => same(c, channel)) || s.channels.length >= MAX_CHANNELS ? s : { ...s, channels: [...s.channels, channel] });

export function withoutChannel(s: Saved, channel: string): Saved {
  const { current, ...rest } = s;
  return { ...rest, channels: s.channels.filter((c) => !same(c, channel)), ...(current && !same(current, channel) ? { current } : {}) };
}
