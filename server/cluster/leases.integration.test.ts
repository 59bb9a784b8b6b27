import pino from 'pino';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/client';
import { createStudy } from '../studies/service';
import { scratchPostgres } from '../testing/databases';
import { StudyLeases } from './leases';

const log = pino({ level: 'silent' });

/** A process's leases over its own client, recording what it was told. */
function leasesOn(url: string) {
  const client = postgres(url, { max: 2, onnotice: () => {} });
  const told: string[] = [];
  const leases = new StudyLeases({
    client,
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
    const a = leasesOn(pg!.url);
    const b = leasesOn(pg!.url);
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
      await a.client`select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and pid <> pg_backend_pid() and classid = ${0x53746479}::oid and objid = (hashtext('alpha')::bigint & 4294967295)::oid`;
      await b.leases.tickNow();
      expect(b.leases.studies()).toEqual(['alpha', 'beta', 'gamma']);
      // The dead one's own look finds its locks gone and lets the studies go rather than believe it leads.
      await a.leases.tickNow();
      expect(a.leases.studies().filter((id) => b.leases.studies().includes(id))).toEqual([]);
      expect(a.told).toContain('-alpha');
    } finally {
      await a.leases.stop();
      await b.leases.stop();
      await a.client.end({ timeout: 1 });
      await b.client.end({ timeout: 1 });
    }
  });

  it('hands its studies over when it drains: the others take them at their next look', async () => {
    const a = leasesOn(pg!.url);
    const b = leasesOn(pg!.url);
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
