import { KEY_FILES, loadOrCreateKey, type KeyFileOptions, type LoadedKey } from './key-file.js';

/**
 * `<dataDir>/cloak-key.secret`: the HMAC key of the cloaks (state/cloak.ts, #12 finding 9).
 * A file of its own, like every key here (never derived from another: rotating the database or
 * signing key must not change the cloaks that bans are written against). Stable across restarts;
 * `keys --force cloak` rotates it, which changes every cloak.
 */
export function loadCloakKey(dataDir: string, opts: KeyFileOptions = {}): LoadedKey {
  return loadOrCreateKey(dataDir, KEY_FILES.cloak, opts);
}
