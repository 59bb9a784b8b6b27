import { createCipheriv, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { RoundPrivacy } from '../../shared/fl/privacy/sitePrivacy';
import type { Db } from '../db/client';
import { roundSecrets } from '../db/schema';

/**
 * The randomness of differential privacy on the server. Sampling draws from the OS's CSPRNG; each
 * round's noise from an AES-256-CTR keystream under a fresh random key kept in `round_secrets`, so
 * the same round aggregated twice (a crash, another process) adds the same noise, and nobody who
 * knows the study's seed can predict it.
 */

/**
 * For benches only (scripts/bench-privacy.ts --noise distributed): when set, a private round's mean gets
 * this instead of the central Gaussian noise, with the round's privacy and its number of updates. Null
 * in the server.
 */
export const meanNoiseOverride: { apply: ((mean: Float64Array[], privacy: RoundPrivacy, updates: number) => void) | null } = { apply: null };

/** Uniform draws in [0, 1) with 53 random bits each, from a stream of random bytes. */
function uniformFrom(next: (bytes: number) => Buffer): () => number {
  let buf: Buffer = Buffer.alloc(0);
  let at = 0;
  return () => {
    if (at + 8 > buf.length) {
      buf = next(8 * 512);
      at = 0;
    }
    const hi = buf.readUInt32BE(at) >>> 5; // 27 bits
    const lo = buf.readUInt32BE(at + 4) >>> 6; // 26 bits
    at += 8;
    return (hi * 67108864 + lo) / 9007199254740992;
  };
}

/** Uniform draws from the OS's cryptographic generator: the Poisson sample of a private round. */
export function secureUniform(): () => number {
  return uniformFrom((n) => randomBytes(n));
}

/** Uniform draws from the keystream of `keyHex` (32 bytes): the same key, the same draws. */
export function keyedUniform(keyHex: string): () => number {
  const key = Buffer.from(keyHex, 'hex');
  if (key.length !== 32) throw new RangeError('a noise key is 32 bytes');
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return uniformFrom((n) => cipher.update(Buffer.alloc(n)));
}

/** A new round's noise key, stored before the round takes its first update. */
export async function createNoiseKey(db: Pick<Db, 'insert'>, roundId: number): Promise<void> {
  await db.insert(roundSecrets).values({ roundId, noiseKey: randomBytes(32).toString('hex') }).onConflictDoNothing();
}

/** The round's noise key; a private round opened without one (never, but a restore might) gets one now. */
export async function noiseKeyOf(db: Db, roundId: number): Promise<string> {
  await createNoiseKey(db, roundId);
  const [row] = await db.select({ key: roundSecrets.noiseKey }).from(roundSecrets).where(eq(roundSecrets.roundId, roundId));
  return row.key;
}
