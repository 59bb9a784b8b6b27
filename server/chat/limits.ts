import { lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { chatUsage } from '../db/schema';

/** The UTC day of a moment, as 'YYYY-MM-DD': the daily limit resets at midnight UTC. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The day each database's earlier counts were last dropped on: once a day per process is enough. */
const prunedOn = new WeakMap<Db, string>();

/**
 * Counts one message for `key` on `day` (one upsert, safe under concurrency) and returns the day's
 * count so far. The first count of a new day drops the counts of the days before: only today's
 * limit reads them, so the table holds one day of keys (patients and addresses), not every day's.
 */
export async function countMessage(db: Db, key: string, day: string): Promise<number> {
  if (prunedOn.get(db) !== day) {
    prunedOn.set(db, day);
    await db.delete(chatUsage).where(lt(chatUsage.day, day));
  }
  const [row] = await db
    .insert(chatUsage)
    .values({ key, day, count: 1 })
    .onConflictDoUpdate({ target: [chatUsage.key, chatUsage.day], set: { count: sql`${chatUsage.count} + 1` } })
    .returning({ count: chatUsage.count });
  return row.count;
}

/** "at midnight UTC, in 3 h 12 min" */
export function resetsIn(nowMs: number): string {
  const next = Date.UTC(new Date(nowMs).getUTCFullYear(), new Date(nowMs).getUTCMonth(), new Date(nowMs).getUTCDate() + 1);
  const minutes = Math.max(1, Math.ceil((next - nowMs) / 60_000));
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `at midnight UTC (${new Date(next).toISOString().slice(0, 16).replace('T', ' ')} UTC), in ${h ? `${h} h ` : ''}${m} min`;
}

export function dailyLimitMessage(limit: number, nowMs: number): string {
  return `You have reached today's limit of ${limit} messages. It resets ${resetsIn(nowMs)}. In an emergency, call 112, 999 or 911: urgent messages are always answered.`;
}
