import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import * as schema from './schema';
import { FsBlobStore, type BlobStore } from '../storage/blobStore';
import { moveLegacyBlobs } from '../storage/legacyBlobs';

export type Schema = typeof schema;
/** The one database type the server codes against, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Where the bytes of updates, model versions and server state live; the rows keep their hashes. */
  blobs: BlobStore;
  ping(): Promise<boolean>;
  close(): Promise<void>;
  /** PostgreSQL's own client, for what needs a session of its own (the study leases of ../cluster/leases.ts). */
  client?: postgres.Sql;
}

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

export interface OpenOptions {
  /** postgres:// URL; without it the embedded PGlite is used. */
  url?: string;
  /** PGlite data folder; omitted means in memory. */
  dataDir?: string;
  /** Existing PGlite instance to reuse (tests share one per file). */
  pglite?: PGlite;
  /**
   * PostgreSQL: hold the coordinator's advisory lock for as long as the database is open, so a second
   * server on the same database refuses to start (rounds, deadlines and presence live in one process).
   * PGlite needs none: its data folder is locked (see dataDirLock).
   */
  exclusive?: boolean;
  /** PostgreSQL's application_name for this process's connections (pg_stat_activity names who holds what). */
  applicationName?: string;
  /** Folder of the blob store (`<DATA_DIR>/blobs`); omitted means a temporary one, removed on close. */
  blobDir?: string;
  /** A blob store made elsewhere (object storage shared by several processes); it wins over `blobDir`, and is closed with the database. */
  blobs?: BlobStore;
}

const storeOfDb = new WeakMap<object, BlobStore>();

/** The blob store beside a database opened with `openDatabase`. */
export function blobsOf(db: Db): BlobStore {
  const store = storeOfDb.get(db);
  if (!store) throw new Error('this database handle was not opened with openDatabase: it has no blob store');
  return store;
}

function withBlobs(opened: Omit<Database, 'blobs'>, opts: OpenOptions): Promise<Database> {
  const blobs = opts.blobs ?? (opts.blobDir ? new FsBlobStore(opts.blobDir) : FsBlobStore.temporary());
  storeOfDb.set(opened.db, blobs);
  const database: Database = {
    ...opened,
    blobs,
    close: async () => {
      await opened.close();
      await blobs.close();
    },
  };
  return moveLegacyBlobs(opened.db, blobs).then(
    () => database,
    async (err) => {
      await database.close();
      throw err;
    },
  );
}

/** The advisory-lock key of the one coordinating server per database ("Cons" in ASCII). */
export const COORDINATOR_LOCK_KEY = 0x436f6e73;
/** Held while a process migrates, so processes starting together migrate one after another ("Migr"). */
const MIGRATION_LOCK_KEY = 0x4d696772;

export class DatabaseLockedError extends Error {
  constructor() {
    super('Another Consilium server is already running on this database (it holds the coordinator lock). Stop it first, or point this one at another database.');
    this.name = 'DatabaseLockedError';
  }
}

export async function openDatabase(opts: OpenOptions = {}): Promise<Database> {
  if (opts.url) {
    const client = postgres(opts.url, { max: 10, onnotice: () => {}, ...(opts.applicationName ? { connection: { application_name: opts.applicationName } } : {}) });
    // A session-level lock lives as long as its connection: one connection is kept for it. A crashed
    // server's connection closes with it, and the lock with that.
    const held = opts.exclusive ? await client.reserve() : null;
    if (held) {
      const [{ ok }] = await held<{ ok: boolean }[]>`select pg_try_advisory_lock(${COORDINATOR_LOCK_KEY}) as ok`;
      if (!ok) {
        held.release();
        await client.end({ timeout: 5 });
        throw new DatabaseLockedError();
      }
    }
    const db = drizzlePostgres(client, { schema }) as unknown as Db;
    try {
      const migrating = await client.reserve();
      try {
        await migrating`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
        await migratePostgres(drizzlePostgres(client), { migrationsFolder });
      } finally {
        await migrating`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => undefined);
        migrating.release();
      }
    } catch (err) {
      held?.release();
      await client.end({ timeout: 5 });
      throw err;
    }
    return withBlobs({
      db,
      kind: 'postgres',
      client,
      ping: () => ping(db),
      close: async () => {
        if (held) {
          await held`select pg_advisory_unlock(${COORDINATOR_LOCK_KEY})`.catch(() => undefined);
          held.release();
        }
        await client.end({ timeout: 5 });
      },
    }, opts);
  }
  const client = opts.pglite ?? (opts.dataDir ? await openPgliteFolder(opts.dataDir) : new PGlite());
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  await migratePglite(drizzlePglite(client), { migrationsFolder });
  return withBlobs({
    db,
    kind: 'pglite',
    ping: () => ping(db),
    close: async () => {
      if (!opts.pglite) await client.close();
    },
  }, opts);
}

/**
 * PGlite's own settings are a server's: 128 MB of shared buffers, taken up front in its WebAssembly
 * memory, where Consilium's database holds only metadata (the bytes live in the blob store). And the
 * first start of a fresh folder runs initdb in the same process, whose ~400 MB stay held by that
 * PGlite instance. So a folder gets EMBEDDED_SHARED_BUFFERS once (ALTER SYSTEM), and PGlite is opened
 * again when that changed anything: ~860 MiB resident after a first start becomes ~430.
 */
const EMBEDDED_SHARED_BUFFERS = '32MB';

async function openPgliteFolder(dataDir: string): Promise<PGlite> {
  const first = new PGlite(dataDir);
  await first.waitReady;
  const [{ shared_buffers: current }] = (await first.query<{ shared_buffers: string }>('show shared_buffers')).rows;
  if (current === EMBEDDED_SHARED_BUFFERS) return first;
  await first.exec(`alter system set shared_buffers = '${EMBEDDED_SHARED_BUFFERS}'`);
  await first.close();
  const client = new PGlite(dataDir);
  await client.waitReady;
  return client;
}

async function ping(db: Db): Promise<boolean> {
  try {
    await db.execute(sql`select 1`);
    return true;
  } catch {
    return false;
  }
}
