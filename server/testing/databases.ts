import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDatabase, type Database } from '../db/client';

export interface TestDatabaseTarget {
  name: 'pglite' | 'postgres';
  /** Open the file's database (once per file: a fresh PGlite costs seconds). */
  open(): Promise<Database>;
  /** Empty every table between tests. */
  reset(db: Database): Promise<void>;
  /** Close, and drop what was created. */
  dispose(db: Database): Promise<void>;
}

const TABLES = ['record_privacy_runs', 'column_summaries', 'custom_templates', 'chat_messages', 'chat_conversations', 'chat_usage', 'audit_events', 'api_tokens', 'sessions', 'invites', 'study_config_changes', 'evaluations', 'refused_updates', 'model_approvals', 'site_statistics', 'updates', 'model_versions', 'round_secrets', 'rounds', 'participants', 'studies', 'sites', 'users', 'settings'];

async function truncateAll(db: Database) {
  await db.db.execute(sql.raw(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY CASCADE`));
}

export const postgresUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;

/** PGlite always; PostgreSQL too when TEST_DATABASE_URL or DATABASE_URL is set, each test file on its own database. */
export function testDatabaseTargets(): TestDatabaseTarget[] {
  const targets: TestDatabaseTarget[] = [
    {
      name: 'pglite',
      open: () => openDatabase({ pglite: new PGlite() }),
      reset: truncateAll,
      dispose: async (db) => {
        await db.close();
      },
    },
  ];
  if (postgresUrl) {
    const name = `consilium_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = () => postgres(postgresUrl, { max: 1, onnotice: () => {} });
    const url = new URL(postgresUrl);
    url.pathname = `/${name}`;
    targets.push({
      name: 'postgres',
      async open() {
        const a = admin();
        await a.unsafe(`CREATE DATABASE ${name}`);
        await a.end();
        return openDatabase({ url: url.toString() });
      },
      reset: truncateAll,
      async dispose(db) {
        await db.close();
        const a = admin();
        await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await a.end();
      },
    });
  }
  return targets;
}

/** A fresh, empty PostgreSQL database of its own (for tests that start server processes on it), or null without PostgreSQL. */
export async function scratchPostgres(): Promise<{ url: string; drop(): Promise<void> } | null> {
  if (!postgresUrl) return null;
  const name = `consilium_scratch_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = () => postgres(postgresUrl!, { max: 1, onnotice: () => {} });
  const a = admin();
  await a.unsafe(`CREATE DATABASE ${name}`);
  await a.end();
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const b = admin();
      await b.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await b.end();
    },
  };
}
