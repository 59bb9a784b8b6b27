import { and, desc, eq, isNull, lte, or } from 'drizzle-orm';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { API_TOKEN_PREFIX, type ApiTokenScope, type ApiTokenView, type CreatedApiToken } from '../../shared/protocol/monitoring';
import { systemClock, type Clock } from '../clock';
import type { Db } from '../db/client';
import { apiTokens, users } from '../db/schema';

/** A request's valid API token, as the routes see it. */
export interface ApiTokenCaller {
  id: string;
  name: string;
  scope: ApiTokenScope;
  lastUsedAt: Date | null;
}

/** What checking a presented `cst_…` secret found: the token, or why it is refused (said in the 401). */
export type ApiTokenCheck = { token: ApiTokenCaller; refusal?: undefined } | { token: null; refusal: string };

export const apiTokenRefusals = {
  unknown: 'this API token is not valid (check that it was copied whole); a platform admin can create a new one',
  revoked: 'this API token was revoked; a platform admin can create a new one',
  /** A valid token on a route outside its scope: refused as an anonymous caller would be. */
  outOfScope: 'an API token reads the monitoring routes only (GET /api/health, /api/rounds/current, /api/metrics/latest, /api/metrics/history, /api/clients)',
} as const;

/** `last_used_at` is written at most this often per token: a scraper polling every few seconds costs no write each time. */
export const LAST_USED_EVERY_MS = 60_000;

export interface ApiTokens {
  create(input: { name: string; createdBy: string }): Promise<CreatedApiToken>;
  list(): Promise<ApiTokenView[]>;
  /** Ends the token; false when there is no such token (revoking twice keeps the first time). */
  revoke(id: string): Promise<{ id: string; name: string } | null>;
  check(secret: string): Promise<ApiTokenCheck>;
  /** Records a use of the token, unless one was recorded within the last minute. */
  touch(token: ApiTokenCaller): Promise<void>;
}

export const isApiTokenSecret = (bearer: string) => bearer.startsWith(API_TOKEN_PREFIX);

/** Only this is stored: the secret has 256 random bits, so a plain SHA-256 cannot be walked back. */
export const hashApiToken = (secret: string) => createHash('sha256').update(secret).digest('hex');

export function createApiTokens(db: Db, clock: Clock = systemClock): ApiTokens {
  return {
    async create({ name, createdBy }) {
      const id = randomUUID();
      const token = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      await db.insert(apiTokens).values({ id, name, hash: hashApiToken(token), scope: 'monitoring:read', createdBy, createdAt: new Date(clock.now()) });
      return { id, name, scope: 'monitoring:read', token };
    },

    async list() {
      const rows = await db
        .select({ t: apiTokens, email: users.email })
        .from(apiTokens)
        .innerJoin(users, eq(users.id, apiTokens.createdBy))
        .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id));
      return rows.map(({ t, email }) => ({
        id: t.id,
        name: t.name,
        scope: t.scope,
        createdBy: email,
        createdAt: t.createdAt.toISOString(),
        lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
        revokedAt: t.revokedAt?.toISOString() ?? null,
      }));
    },

    async revoke(id) {
      const [row] = await db.select({ id: apiTokens.id, name: apiTokens.name }).from(apiTokens).where(eq(apiTokens.id, id));
      if (!row) return null;
      await db
        .update(apiTokens)
        .set({ revokedAt: new Date(clock.now()) })
        .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)));
      return row;
    },

    async check(secret) {
      const [row] = await db.select().from(apiTokens).where(eq(apiTokens.hash, hashApiToken(secret)));
      if (!row) return { token: null, refusal: apiTokenRefusals.unknown };
      if (row.revokedAt) return { token: null, refusal: apiTokenRefusals.revoked };
      return { token: { id: row.id, name: row.name, scope: row.scope, lastUsedAt: row.lastUsedAt } };
    },

    async touch(token) {
      const now = clock.now();
      if (token.lastUsedAt && now - token.lastUsedAt.getTime() < LAST_USED_EVERY_MS) return;
      // The condition again in SQL: of several requests at once (or several processes), one writes.
      const before = new Date(now - LAST_USED_EVERY_MS);
      await db
        .update(apiTokens)
        .set({ lastUsedAt: new Date(now) })
        .where(and(eq(apiTokens.id, token.id), or(isNull(apiTokens.lastUsedAt), lte(apiTokens.lastUsedAt, before))));
    },
  };
}
