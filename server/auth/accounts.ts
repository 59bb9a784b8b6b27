import argon2 from 'argon2';
import { eq } from 'drizzle-orm';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../db/client';
import { users } from '../db/schema';

/**
 * Make sure a platform admin exists. Returns the generated password only when the account was
 * created now, so the caller can show it once; it is never stored in clear or logged.
 */
export async function ensurePlatformAdmin(db: Db, email: string): Promise<{ email: string; password: string | null }> {
  const existing = await db.select({ id: users.id }).from(users).where(eq(users.role, 'platform_admin')).limit(1);
  if (existing.length > 0) return { email, password: null };
  const password = randomBytes(12).toString('base64url');
  const passwordHash = await argon2.hash(password, { type: argon2.argon2id });
  const inserted = await db
    .insert(users)
    .values({ id: randomUUID(), email, passwordHash, role: 'platform_admin' })
    .onConflictDoNothing()
    .returning({ id: users.id });
  return { email, password: inserted.length ? password : null };
}

export async function verifyLogin(db: Db, email: string, password: string) {
  const [user] = await db.select().from(users).where(eq(users.email, email.toLowerCase()));
  // Hash anyway when the user is unknown, so timing does not reveal which emails exist.
  const hash = user?.passwordHash ?? '$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$Jb0rM5cxkNNlj3ZHIv2Uu+LZCQn1QPbH1W4v63R2o9o';
  const ok = await argon2.verify(hash, password).catch(() => false);
  return ok && user ? user : null;
}
