import argon2 from 'argon2';
import { eq } from 'drizzle-orm';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../db/client';
import { users, type Role } from '../db/schema';

// OWASP's argon2id baseline (19 MiB, 2 passes) costs ~30 ms here: cheap for people, dear for guessing.
const HASH_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string) => argon2.hash(password, HASH_OPTIONS);

/** A fresh random password, for the first platform admin and for resets. */
export const generatePassword = () => randomBytes(12).toString('base64url');

// Verified when the email is unknown, so timing does not tell which emails exist.
let decoyHash: Promise<string> | undefined;

export async function createUser(db: Db, u: { email: string; password: string; role: Role; siteId?: string | null }) {
  const [row] = await db
    .insert(users)
    .values({ id: randomUUID(), email: u.email.toLowerCase(), passwordHash: await hashPassword(u.password), role: u.role, siteId: u.siteId ?? null })
    .returning();
  return row;
}

/**
 * Make sure a platform admin exists. Returns the generated password only when the account was
 * created now, so the caller can show it once; it is never stored in clear or logged.
 */
export async function ensurePlatformAdmin(db: Db, email: string): Promise<{ email: string; password: string | null }> {
  const existing = await db.select({ id: users.id, email: users.email }).from(users).where(eq(users.role, 'platform_admin')).limit(1);
  if (existing.length > 0) return { email: existing[0].email, password: null };
  const password = generatePassword();
  const inserted = await db
    .insert(users)
    .values({ id: randomUUID(), email: email.toLowerCase(), passwordHash: await hashPassword(password), role: 'platform_admin' })
    .onConflictDoNothing()
    .returning({ id: users.id });
  return { email, password: inserted.length ? password : null };
}

export async function verifyLogin(db: Db, email: string, password: string) {
  const [user] = await db.select().from(users).where(eq(users.email, email.toLowerCase()));
  const hash = user?.passwordHash ?? (await (decoyHash ??= hashPassword(randomBytes(16).toString('hex'))));
  const ok = await argon2.verify(hash, password).catch(() => false);
  return ok && user ? user : null;
}

/** Set a new password for an account; the caller ends its sessions. */
export async function setPassword(db: Db, userId: string, password: string): Promise<void> {
  await db.update(users).set({ passwordHash: await hashPassword(password) }).where(eq(users.id, userId));
}
