import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/client';
import { chatUsage } from '../db/schema';
import { testDatabaseTargets } from '../testing/databases';
import { countMessage, utcDay } from './limits';

describe.each(testDatabaseTargets())('the chat daily counts ($name)', (target) => {
  let database: Database;
  beforeAll(async () => {
    database = await target.open();
    await target.reset(database);
  });
  afterAll(async () => {
    await target.dispose(database);
  });

  it('counts per key and day, and drops earlier days once a new day starts', async () => {
    const { db } = database;
    await db.insert(chatUsage).values([
      { key: 'address:192.0.2.1', day: '2026-01-01', count: 7 },
      { key: 'patient:p1', day: '2026-01-02', count: 3 },
    ]);
    const today = utcDay(Date.UTC(2026, 0, 3, 9));
    expect(await countMessage(db, 'patient:p1', today)).toBe(1);
    expect(await countMessage(db, 'patient:p1', today)).toBe(2);
    expect(await countMessage(db, 'address:192.0.2.1', today)).toBe(1);
    const rows = await db.select().from(chatUsage);
    expect(rows.map((r) => [r.key, r.day, r.count]).sort()).toEqual([
      ['address:192.0.2.1', '2026-01-03', 1],
      ['patient:p1', '2026-01-03', 2],
    ]);
  });
});
