import { randomBytes } from 'node:crypto';

/**
 * CSPRNG bytes handed out from a pool refilled 48 KiB at a time. `randomBytes` has a fixed cost of
 * ~15–20 µs per call (bench fanout profile), paid per stored message (GCM nonce) and per msgid
 * (ulid draws one byte per character); the bytes are the same CSPRNG output, each used once.
 */
const POOL_BYTES = 48 * 1024;
let pool = Buffer.alloc(0);
let pos = 0;

/** `n` fresh random bytes (a view into the pool: copy it if you keep it beyond the next call) */
export function pooledRandomBytes(n: number): Buffer {
  if (n > POOL_BYTES) return randomBytes(n);
  if (pos + n > pool.length) {
    pool = randomBytes(POOL_BYTES);
    pos = 0;
  }
  const b = pool.subarray(pos, pos + n);
  pos += n;
  return b;
}

/** A uniform float in [0, 1) with 8 bits of entropy: ulid's PRNG interface (it maps each draw onto 32 symbols, 256/32 exact). */
export function pooledPrng(): number {
  return pooledRandomBytes(1)[0]! / 256;
}
