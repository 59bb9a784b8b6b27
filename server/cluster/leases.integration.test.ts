import pino from 'pino';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/client';
import { createStudy } from '../studies/service';
import { scratchPostgres } from '../testing/databases';
import { StudyLeases } from './leases';

const log = pino({ level: 'silent' });

/** A process's leases, named in pg_stat_activity, recording what it was told. */
function leasesOn(url: string, name: string) {
  const client = postgres(url, { max: 2, onnotice: () => {} });
  const told: string[] = [];
  const leases = new StudyLeases({
    url,
    applicationName: name,
    log,
    intervalMs: 60_000, // ticks are driven by the test
    acquired: async (id) => void told.push(`+${id}`),
    lost: async (id) => void told.push(`-${id}`),
  });
  return { client, leases, told };
}

const pg = await scratchPostgres();

describe.skipIf(!pg)('study leases (PostgreSQL)', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({ url: pg!.url });
    for (const id of ['alpha', 'beta']) await createStudy(database.db, { id, name: id, templateId: 'heart-risk' });
  });
  afterAll(async () => {
    await database?.close();
    await pg?.drop();
  });

  it('gives each study to exactly one process, and a dead process\'s studies to another at its next look', async () => {
    const a = leasesOn(pg!.url, 'lease-a');
    const b = leasesOn(pg!.url, 'lease-b');
    try {
      await a.leases.tickNow();
      await b.leases.tickNow();
      expect(a.leases.studies()).toEqual(['alpha', 'beta']);
      expect(b.leases.studies()).toEqual([]);
      expect(a.told.sort()).toEqual(['+alpha', '+beta']);

      // A new study goes to whoever looks first; the other does not take it too.
      await createStudy(database.db, { id: 'gamma', name: 'gamma', templateId: 'heart-risk' });
      await b.leases.tickNow();
      await a.leases.tickNow();
      expect(b.leases.studies()).toEqual(['gamma']);
      expect(a.leases.studies()).toEqual(['alpha', 'beta']);

      // A killed process: its connection ends, PostgreSQL frees its locks, the other takes them.
      await a.client`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'lease-a'`;
      // Its session ended: it lets its studies go at once, without waiting for a look.
      for (let i = 0; i < 100 && a.leases.studies().length; i++) await new Promise((r) => setTimeout(r, 20));
      expect(a.leases.studies()).toEqual([]);
      expect(a.told).toContain('-alpha');
      await b.leases.tickNow();
      expect(b.leases.studies()).toEqual(['alpha', 'beta', 'gamma']);
      // Its next look opens a new session and finds nothing free: no study has two coordinators.
      await a.leases.tickNow();
      expect(a.leases.studies()).toEqual([]);
    } finally {
      await a.leases.stop();
      await b.leases.stop();
      await a.client.end({ timeout: 1 });
      await b.client.end({ timeout: 1 });
    }
  });

  it('hands its studies over when it drains: the others take them at their next look', async () => {
    const a = leasesOn(pg!.url, 'lease-c');
    const b = leasesOn(pg!.url, 'lease-d');
    try {
      await a.leases.tickNow();
      await b.leases.tickNow();
      const led = a.leases.studies();
      expect(led.length).toBeGreaterThan(0);
      await a.leases.release();
      expect(led.every((id) => !a.leases.leads(id))).toBe(true);
      expect(a.told.filter((t) => t.startsWith('-')).sort()).toEqual(led.map((id) => `-${id}`));
      await b.leases.tickNow();
      expect(b.leases.studies()).toEqual(['alpha', 'beta', 'gamma']);
    } finally {
      await a.leases.stop();
      await b.leases.stop();
      await a.client.end({ timeout: 1 });
      await b.client.end({ timeout: 1 });
    }
  });
});
