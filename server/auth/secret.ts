import { eq } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/client';
import { settings } from '../db/schema';

/** The HMAC key for session and link tokens, made once and kept in the database so links survive restarts. */
export async function loadSigningKey(db: Db): Promise<Uint8Array> {
  const fresh = randomBytes(32).toString('base64url');
  await db.insert(settings).values({ key: 'signing_key', value: fresh }).onConflictDoNothing();
  const [row] = await db.select().from(settings).where(eq(settings.key, 'signing_key'));
  return new Uint8Array(Buffer.from(row.value, 'base64url'));
}
