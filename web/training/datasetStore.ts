import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { batchToRecords, type RecordBatch } from '../../shared/data/columnar';
import { isImageBatch, joinImageBatches, type ImageBatch } from '../../shared/data/images/batch';
import type { DatasetStats } from '../../shared/data/stats';
import { getTemplate, templateFamily, type TabularRecord } from '../../shared/tasks';

/**
 * The hospital's datasets, kept in this browser's IndexedDB, one database per site so several sites
 * can run in tabs of one browser. Only the worker opens it; records never cross to the page.
 *
 * A site may hold several datasets per study template (the demo one, imported files); one of them is
 * active and is what training and evaluation read. Records are stored in chunks of columnar typed
 * arrays; an image template's scans in chunks of 8-bit pixels at the template's input size. An
 * import writes its chunks under a staging dataset that nothing reads; one transaction at the end
 * marks it ready and makes it active. Until then the previous dataset stays active and
 * intact, so a cancelled import, a full quota, a corrupt file or a closed tab changes nothing.
 */
export interface DatasetMeta {
  id: string;
  templateId: string;
  /** The study the dataset was imported for (informational: datasets belong to a template). */
  studyId: string | null;
  source: 'demo' | 'csv' | 'images';
  /** The file's (or folder's) name, or the demo profile's hospital name. */
  name: string;
  /** Synthetic profile the records came from; also the key of their train/validation split. */
  profileId: string | null;
  count: number;
  /** Records per label value. */
  labelCounts: number[];
  fingerprint: string;
  createdAt: string;
  /** Bytes of the stored chunks, roughly. */
  bytes: number;
  chunks: number;
  /** Per-feature statistics of the stored records (missing values per feature among them). */
  stats: DatasetStats;
  /** Staging: being written by an import, invisible to training. */
  state: 'staging' | 'ready';
}

/** One chunk of a dataset's records or scans, in their file or generation order. */
export type StoredChunk = (RecordBatch | ImageBatch) & {
  datasetId: string;
  index: number;
};

interface ActivePointer {
  datasetId: string;
  activatedAt: number;
}

interface SiteDb extends DBSchema {
  datasets: { key: string; value: DatasetMeta };
  records: { key: [string, number]; value: StoredChunk };
  /** By template family (`heart-risk` for every version of it: they share their features): the dataset training uses. */
  active: { key: string; value: ActivePointer };
}

export interface LoadedDataset {
  meta: DatasetMeta | null;
  /** Records or scans held. */
  count: number;
  /** Tabular templates' records (none for an image template). */
  records: TabularRecord[];
  /** Image templates' scans, all in one batch; null for a tabular template. */
  images: ImageBatch | null;
  /** Class index per record or scan, in storage order. */
  labels: ArrayLike<number>;
}

const EMPTY: Omit<LoadedDataset, 'meta'> = { count: 0, records: [], images: null, labels: [] };

export class StorageFullError extends Error {
  constructor() {
    super(
      "This browser's storage for Consilium is full, so the import was stopped and nothing was kept. Free some space (delete an older dataset, or clear other sites' data) and import again; the previous dataset is unchanged.",
    );
    this.name = 'StorageFullError';
  }
}

const DB_VERSION = 2;
const dbs = new Map<string, Promise<IDBPDatabase<SiteDb>>>();
let cache: { siteId: string; datasetId: string; loaded: LoadedDataset } | null = null;

export const siteDbName = (siteId: string) => `consilium-site-${siteId}`;
export const importLockName = (siteId: string, datasetId: string) => `consilium-import-${siteId}-${datasetId}`;

function siteDb(siteId: string): Promise<IDBPDatabase<SiteDb>> {
  let db = dbs.get(siteId);
  if (!db) {
    db = openDB<SiteDb>(siteDbName(siteId), DB_VERSION, {
      upgrade(database, oldVersion) {
        // Version 1 held only the seeded demo records, which regenerate identically: start afresh.
        if (oldVersion < 2) {
          for (const name of Array.from(database.objectStoreNames)) database.deleteObjectStore(name);
          database.createObjectStore('datasets', { keyPath: 'id' });
          database.createObjectStore('records', { keyPath: ['datasetId', 'index'] });
          database.createObjectStore('active');
        }
      },
      blocking() {
        // A newer page wants to upgrade the schema: let it, and reopen on the next call.
        void db?.then((d) => d.close());
        dbs.delete(siteId);
      },
    });
    dbs.set(siteId, db);
  }
  return db;
}

function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: unknown } | null)?.name;
  return name === 'QuotaExceededError' || (e as { inner?: { name?: string } } | null)?.inner?.name === 'QuotaExceededError';
}

/**
 * Runs `work` in the transaction and waits for both, turning a full quota (thrown by a request,
 * reported on it, or on the transaction) into `StorageFullError`; if `work` fails, the transaction is
 * aborted so nothing it wrote stays.
 */
async function settle(tx: { done: Promise<void>; error: DOMException | null; abort(): void }, work: () => Promise<unknown>): Promise<void> {
  let running: Promise<unknown>;
  try {
    running = work();
  } catch (e) {
    running = Promise.reject(e);
  }
  try {
    await Promise.all([
      running.catch((e) => {
        try {
          tx.abort();
        } catch {
          // Already finished.
        }
        throw e;
      }),
      tx.done,
    ]);
  } catch (e) {
    if (isQuotaError(e) || isQuotaError(tx.error)) throw new StorageFullError();
    throw e;
  }
}

const chunkRange = (datasetId: string) => IDBKeyRange.bound([datasetId, 0], [datasetId, Number.MAX_SAFE_INTEGER]);

async function activeMeta(db: IDBPDatabase<SiteDb>, templateId?: string): Promise<DatasetMeta | null> {
  let pointer: ActivePointer | undefined;
  if (templateId) pointer = await db.get('active', templateFamily(templateId));
  else {
    // Callers that do not name a template get the dataset activated last.
    const all = await db.getAll('active');
    pointer = all.sort((a, b) => b.activatedAt - a.activatedAt)[0];
  }
  if (!pointer) return null;
  const meta = await db.get('datasets', pointer.datasetId);
  return meta?.state === 'ready' ? meta : null;
}

async function writeDataset(db: IDBPDatabase<SiteDb>, meta: DatasetMeta, batches: (RecordBatch | ImageBatch)[]): Promise<void> {
  const tx = db.transaction(['datasets', 'records'], 'readwrite');
  const records = tx.objectStore('records');
  await settle(tx, () => Promise.all([...batches.map((b, index) => records.put({ ...b, datasetId: meta.id, index })), tx.objectStore('datasets').put(meta)]));
}

/**
 * Writes the dataset `generate` makes and makes it active, unless the site already has an active
 * dataset for the template. The check and the switch share one transaction, so two tabs of the same
 * site writing the same dataset (its id fixed) end up with one active dataset.
 */
export async function ensureActiveDataset(
  siteId: string,
  templateId: string,
  generate: () => Promise<{ meta: DatasetMeta; batch: RecordBatch | ImageBatch }>,
): Promise<void> {
  const db = await siteDb(siteId);
  const key = templateFamily(templateId);
  if (await activeMeta(db, key)) return;
  // Generated, hashed and written before the switch: IndexedDB commits a transaction left idle across an await.
  const { meta, batch } = await generate();
  await writeDataset(db, meta, [batch]);
  const tx = db.transaction('active', 'readwrite');
  const active = tx.objectStore('active');
  await settle(tx, async () => {
    if (!(await active.get(key))) await active.put({ datasetId: meta.id, activatedAt: Date.now() }, key);
  });
}

export function countLabels(labels: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]] = (counts[labels[i]] ?? 0) + 1;
  return counts;
}

/** The site's active dataset for a template, without reading its records. */
export async function activeDataset(siteId: string, templateId: string): Promise<DatasetMeta | null> {
  return activeMeta(await siteDb(siteId), templateId);
}

/** What streaming needs of a stored dataset: where its chunks are and every record's label. */
export interface ChunkIndex {
  datasetId: string;
  /** The chunks' stored indexes, in storage order. */
  chunks: number[];
  /** Records (or scans) per chunk, in the same order. */
  chunkSizes: number[];
  /** Class index per record, in storage order: a byte a record. */
  labels: Uint8Array;
}

/**
 * By site and dataset id. A dataset's chunks never change once it is ready, so neither does its index;
 * callers that ask at once (a description while a round trains) share one pass.
 */
const chunkIndexes = new Map<string, Promise<ChunkIndex>>();
const chunkIndexKey = (siteId: string, datasetId: string) => `${siteId}|${datasetId}`;

/** Throws unless a stored chunk holds what the dataset's template reads. */
function checkChunk(meta: DatasetMeta, chunk: StoredChunk): void {
  const image = getTemplate(meta.templateId)?.image;
  if (!!image !== isImageBatch(chunk)) throw new Error(`The stored dataset "${meta.name}" does not hold ${image ? 'scans' : 'records'}; import it again.`);
  if (image && isImageBatch(chunk) && (chunk.height !== image.height || chunk.width !== image.width || chunk.channels !== image.channels)) {
    throw new Error(`The stored scans of "${meta.name}" are ${chunk.height}×${chunk.width}×${chunk.channels}, the study takes ${image.height}×${image.width}×${image.channels}; import them again.`);
  }
}

/**
 * The chunk sizes and labels of a stored dataset, from one pass of a cursor over its chunks: each
 * chunk is read, its labels copied and the chunk dropped, so no more than one chunk is held at a time.
 */
export function chunkIndex(siteId: string, meta: DatasetMeta): Promise<ChunkIndex> {
  const key = chunkIndexKey(siteId, meta.id);
  let index = chunkIndexes.get(key);
  if (!index) {
    index = scanChunks(siteId, meta);
    chunkIndexes.set(key, index);
    // A failed pass (a dataset deleted under it, a damaged chunk) is not remembered.
    index.catch(() => {
      if (chunkIndexes.get(key) === index) chunkIndexes.delete(key);
    });
  }
  return index;
}

async function scanChunks(siteId: string, meta: DatasetMeta): Promise<ChunkIndex> {
  const db = await siteDb(siteId);
  const chunks: number[] = [];
  const chunkSizes: number[] = [];
  const labels = new Uint8Array(meta.count);
  let count = 0;
  // No await but the cursor's own between requests: the read transaction stays open to the end.
  let cursor = await db.transaction('records').store.openCursor(chunkRange(meta.id));
  while (cursor) {
    const chunk = cursor.value;
    checkChunk(meta, chunk);
    if (count + chunk.n > meta.count) throw new Error(`The stored dataset "${meta.name}" holds more records than its ${meta.count}; import it again.`);
    labels.set(chunk.labels.subarray(0, chunk.n), count);
    count += chunk.n;
    chunks.push(chunk.index);
    chunkSizes.push(chunk.n);
    cursor = await cursor.continue();
  }
  if (count !== meta.count) throw new Error(`The stored dataset "${meta.name}" is incomplete (${count} of ${meta.count} records); import it again.`);
  return { datasetId: meta.id, chunks, chunkSizes, labels };
}

/** One stored chunk of a dataset, read on its own. */
export async function readChunk(siteId: string, datasetId: string, index: number): Promise<StoredChunk> {
  const db = await siteDb(siteId);
  const chunk = await db.get('records', [datasetId, index]);
  if (!chunk) throw new Error(`Chunk ${index} of the stored dataset is missing; import it again.`);
  const meta = await db.get('datasets', datasetId);
  if (meta) checkChunk(meta, chunk);
  return chunk;
}

/** Frees the dataset `loadRecords` keeps in memory: a tab that streams holds none. */
export function releaseLoadedRecords(): void {
  cache = null;
}

/** The site's active records (or scans) for a template, read once per worker and dataset and kept in memory. */
export async function loadRecords(siteId: string, templateId?: string): Promise<LoadedDataset> {
  const db = await siteDb(siteId);
  const meta = await activeMeta(db, templateId);
  if (!meta) return { meta: null, ...EMPTY };
  if (cache && cache.siteId === siteId && cache.datasetId === meta.id) return cache.loaded;
  const chunks = (await db.getAll('records', chunkRange(meta.id))).sort((a, b) => a.index - b.index);
  let loaded: LoadedDataset;
  const image = getTemplate(meta.templateId)?.image;
  if (image) {
    const batches = chunks.filter((c): c is Extract<StoredChunk, ImageBatch> => isImageBatch(c));
    if (batches.length !== chunks.length) throw new Error(`The stored dataset "${meta.name}" does not hold scans; import it again.`);
    const images = joinImageBatches(batches, image);
    loaded = { meta, count: images.n, records: [], images, labels: images.labels };
  } else {
    const records = chunks.flatMap((c) => (isImageBatch(c) ? [] : batchToRecords(c)));
    loaded = { meta, count: records.length, records, images: null, labels: records.map((r) => r.label) };
  }
  if (loaded.count !== meta.count) throw new Error(`The stored dataset "${meta.name}" is incomplete (${loaded.count} of ${meta.count} records); import it again.`);
  // One dataset in memory at a time: a switch frees the previous one.
  cache = { siteId, datasetId: meta.id, loaded };
  return loaded;
}

export interface SiteDatasets {
  datasets: DatasetMeta[];
  activeId: string | null;
}

export async function listDatasets(siteId: string, templateId: string): Promise<SiteDatasets> {
  const db = await siteDb(siteId);
  const [all, active] = await Promise.all([db.getAll('datasets'), activeMeta(db, templateId)]);
  const family = templateFamily(templateId);
  const datasets = all.filter((d) => templateFamily(d.templateId) === family && d.state === 'ready').sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return { datasets, activeId: active?.id ?? null };
}

// ----- imports: staging, then one switch -----

export async function createStaging(siteId: string, meta: DatasetMeta): Promise<void> {
  const db = await siteDb(siteId);
  const tx = db.transaction('datasets', 'readwrite');
  await settle(tx, () => tx.store.put({ ...meta, state: 'staging' }));
}

export async function appendChunk(siteId: string, datasetId: string, index: number, batch: RecordBatch | ImageBatch): Promise<void> {
  const db = await siteDb(siteId);
  const tx = db.transaction('records', 'readwrite');
  await settle(tx, () => tx.store.put({ ...batch, datasetId, index }));
}

/** Marks a staged import ready and makes it the template's active dataset, in one transaction. */
export async function commitStaging(siteId: string, datasetId: string, final: Omit<DatasetMeta, 'state'>): Promise<void> {
  const db = await siteDb(siteId);
  const tx = db.transaction(['datasets', 'records', 'active'], 'readwrite');
  await settle(
    tx,
    async () => {
      const staged = await tx.objectStore('datasets').get(datasetId);
      if (!staged || staged.state !== 'staging') throw new Error('This import is no longer staged (it was cancelled or already imported).');
      const chunks = await tx.objectStore('records').count(chunkRange(datasetId));
      if (chunks !== final.chunks) throw new Error(`The import is incomplete (${chunks} of ${final.chunks} chunks stored); nothing was changed.`);
      await tx.objectStore('datasets').put({ ...final, id: datasetId, state: 'ready' });
      await tx.objectStore('active').put({ datasetId, activatedAt: Date.now() }, templateFamily(final.templateId));
    },
  );
}

/** Removes a dataset and its records; if it was active, the template has no active dataset after. */
export async function deleteDataset(siteId: string, datasetId: string): Promise<void> {
  const db = await siteDb(siteId);
  const tx = db.transaction(['datasets', 'records', 'active'], 'readwrite');
  await settle(
    tx,
    async () => {
      const meta = await tx.objectStore('datasets').get(datasetId);
      await tx.objectStore('records').delete(chunkRange(datasetId));
      await tx.objectStore('datasets').delete(datasetId);
      if (meta) {
        const pointer = await tx.objectStore('active').get(templateFamily(meta.templateId));
        if (pointer?.datasetId === datasetId) await tx.objectStore('active').delete(templateFamily(meta.templateId));
      }
    },
  );
  if (cache?.datasetId === datasetId) cache = null;
  chunkIndexes.delete(chunkIndexKey(siteId, datasetId));
}

export async function activateDataset(siteId: string, templateId: string, datasetId: string): Promise<void> {
  const db = await siteDb(siteId);
  const tx = db.transaction(['datasets', 'active'], 'readwrite');
  await settle(
    tx,
    async () => {
      const meta = await tx.objectStore('datasets').get(datasetId);
      const family = templateFamily(templateId);
      if (!meta || meta.state !== 'ready' || templateFamily(meta.templateId) !== family) throw new Error('That dataset is not available for this study.');
      await tx.objectStore('active').put({ datasetId, activatedAt: Date.now() }, family);
    },
  );
}

/**
 * Deletes staged imports nobody is writing any more (their tab was closed mid-import). An import
 * holds a Web Lock for as long as it is staged; a staging dataset whose lock is free is abandoned.
 */
export async function removeAbandonedStaging(siteId: string): Promise<number> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (!locks) return 0;
  const db = await siteDb(siteId);
  const staged = (await db.getAll('datasets')).filter((d) => d.state === 'staging');
  let removed = 0;
  for (const d of staged) {
    await locks.request(importLockName(siteId, d.id), { ifAvailable: true }, async (lock) => {
      if (!lock) return;
      await deleteDataset(siteId, d.id);
      removed++;
    });
  }
  return removed;
}
