import * as Comlink from 'comlink';
import { batchBytes, type RecordBatch } from '../../shared/data/columnar';
import { analyseCsv, blobSource, ImportCancelledError, type ImportProgress } from '../../shared/data/csv';
import { imageBatchBytes, isImageBatch, type ImageBatch } from '../../shared/data/images/batch';
import { splitCounts } from '../../shared/data/stats';
import { getTemplate, type TaskTemplate } from '../../shared/tasks';
import type { DatasetSummary, DatasetWorkerApi, ImageImportProgress } from './datasetProtocol';
import {
  activateDataset,
  appendChunk,
  commitStaging,
  createStaging,
  deleteDataset,
  importLockName,
  listDatasets,
  removeAbandonedStaging,
  type DatasetMeta,
} from './datasetStore';
import { analyseImageFiles } from './imageImport';
import type { DatasetInfo, SplitConfig } from './protocol';

/** Records per stored chunk: about half a megabyte of heart-risk values. */
const CHUNK_RECORDS = 5000;
const PROGRESS_INTERVAL_MS = 100;

function template(id: string): TaskTemplate {
  const t = getTemplate(id);
  if (!t) throw new Error(`Unknown task template "${id}"`);
  return t;
}

/** Holds a Web Lock until released, so other tabs can tell a staged import is still alive. */
function holdLock(name: string): Promise<() => void> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (!locks) return Promise.resolve(() => undefined);
  return new Promise((granted) => {
    void locks.request(name, () => new Promise<void>((release) => granted(release)));
  });
}

interface Staged {
  siteId: string;
  final: Omit<DatasetMeta, 'state'>;
  release: () => void;
}

/** Imports being read: aborting one lets it remove its own staged records when it stops. */
const running = new Map<string, { controller: AbortController; done: Promise<unknown> }>();
const staged = new Map<string, Staged>();

/** Frees the page's end of a Comlink callback proxy once the call that used it is over. */
function releaseProxy(fn: unknown): void {
  (fn as { [Comlink.releaseProxy]?: () => void } | undefined)?.[Comlink.releaseProxy]?.();
}

/** What an import found, and whether (and as what) its staged chunks can become a dataset. */
interface Staging<A> {
  analysis: A;
  /** Null when nothing can be imported: the staged chunks are removed. */
  final: Pick<DatasetMeta, 'count' | 'labelCounts' | 'fingerprint' | 'stats'> | null;
}

interface StageArgs {
  siteId: string;
  importId: string;
  templateId: string;
  studyId: string | null;
  source: 'csv' | 'images';
  name: string;
}

/**
 * One import, whatever it reads: a staging dataset that nothing trains on, chunks appended as `read`
 * hands them over, and, when it is done, the final metadata kept for `commitImport`. A cancellation,
 * a full quota or a read that fails removes the staged chunks and leaves the site's datasets as they were.
 */
async function stage<A>(
  args: StageArgs,
  read: (hooks: { signal: AbortSignal; append: (batch: RecordBatch | ImageBatch) => Promise<void> }) => Promise<Staging<A>>,
): Promise<{ importId: string | null; analysis: A }> {
  const { siteId, importId } = args;
  const controller = new AbortController();
  let finished!: () => void;
  running.set(importId, { controller, done: new Promise<void>((resolve) => (finished = resolve)) });
  const release = await holdLock(importLockName(siteId, importId));
  let chunks = 0;
  let bytes = 0;
  try {
    await removeAbandonedStaging(siteId).catch(() => 0);
    const base = { id: importId, templateId: args.templateId, studyId: args.studyId, source: args.source, name: args.name, profileId: null, createdAt: new Date().toISOString() };
    await createStaging(siteId, { ...base, count: 0, labelCounts: [], fingerprint: '', bytes: 0, chunks: 0, stats: { records: 0, features: [], labelCounts: [] }, state: 'staging' });
    const { analysis, final } = await read({
      signal: controller.signal,
      append: async (batch) => {
        if (controller.signal.aborted) throw new ImportCancelledError();
        await appendChunk(siteId, importId, chunks++, batch);
        bytes += isImageBatch(batch) ? imageBatchBytes(batch) : batchBytes(batch);
      },
    });
    if (!final) {
      await deleteDataset(siteId, importId);
      release();
      return { importId: null, analysis };
    }
    staged.set(importId, { siteId, release, final: { ...base, ...final, bytes, chunks } });
    return { importId, analysis };
  } catch (e) {
    await deleteDataset(siteId, importId).catch(() => undefined);
    release();
    if (controller.signal.aborted) throw new ImportCancelledError();
    throw e;
  } finally {
    running.delete(importId);
    finished();
  }
}

/** Reports progress at most every `PROGRESS_INTERVAL_MS`, and always the last step. */
function throttled<P>(onProgress: ((p: P) => void) | undefined, last: (p: P) => boolean): (p: P) => void {
  let lastReport = 0;
  return (p) => {
    const now = Date.now();
    if (!onProgress || (now - lastReport < PROGRESS_INTERVAL_MS && !last(p))) return;
    lastReport = now;
    Promise.resolve(onProgress(p)).catch(() => undefined);
  };
}

/**
 * The worker's dataset methods. `describe` is the worker's own summary of the active dataset (it
 * needs the worker's split cache), passed in so this module stays free of TensorFlow.js.
 */
export function createDatasetApi(
  describe: (siteId: string, templateId: string, split?: SplitConfig) => Promise<DatasetInfo>,
): DatasetWorkerApi {
  return {
    async analyseCsv(args, onProgress) {
      const tpl = template(args.templateId);
      const report = throttled(onProgress, (p: ImportProgress) => p.bytesRead >= p.totalBytes);
      try {
        return await stage(
          { siteId: args.siteId, importId: args.importId, templateId: tpl.id, studyId: args.studyId, source: 'csv', name: args.fileName },
          async ({ signal, append }) => {
            const analysis = await analyseCsv(blobSource(args.file, { encoding: args.options?.encoding }), tpl, args.options, {
              signal,
              batchSize: CHUNK_RECORDS,
              onProgress: report,
              onRecords: append,
            });
            const ok = analysis.canImport && analysis.fingerprint;
            return {
              analysis,
              final: ok ? { count: analysis.rows.accepted, labelCounts: analysis.stats.labelCounts, fingerprint: analysis.fingerprint!, stats: analysis.stats } : null,
            };
          },
        );
      } finally {
        releaseProxy(onProgress);
      }
    },

    async analyseImages(args, onProgress) {
      const tpl = template(args.templateId);
      const report = throttled(onProgress, (p: ImageImportProgress) => p.done >= p.total);
      try {
        return await stage(
          { siteId: args.siteId, importId: args.importId, templateId: tpl.id, studyId: args.studyId, source: 'images', name: args.name },
          async ({ signal, append }) => {
            const analysis = await analyseImageFiles(args, tpl, { signal, onProgress: report, onBatch: append });
            const ok = analysis.canImport && analysis.fingerprint;
            return {
              analysis,
              final: ok
                ? {
                    count: analysis.accepted,
                    labelCounts: analysis.labelCounts,
                    fingerprint: analysis.fingerprint!,
                    stats: { records: analysis.accepted, features: [], labelCounts: analysis.labelCounts },
                  }
                : null,
            };
          },
        );
      } finally {
        releaseProxy(onProgress);
      }
    },

    cancelImport(importId) {
      running.get(importId)?.controller.abort();
    },

    async commitImport(siteId, importId, split) {
      const s = staged.get(importId);
      if (!s || s.siteId !== siteId) throw new Error('This import is no longer staged; choose the file again.');
      try {
        await commitStaging(siteId, importId, s.final);
      } finally {
        staged.delete(importId);
        s.release();
      }
      return describe(siteId, s.final.templateId, split);
    },

    async discardImport(siteId, importId) {
      const run = running.get(importId);
      if (run) {
        // The import stops at its next chunk and removes what it wrote; deleting under it would race its writes.
        run.controller.abort();
        await run.done;
      }
      const s = staged.get(importId);
      staged.delete(importId);
      await deleteDataset(siteId, importId);
      s?.release();
    },

    async listDatasets(siteId, templateId, split) {
      const tpl = template(templateId);
      const fraction = split?.validationFraction ?? tpl.defaults.validationFraction;
      // Staged imports of tabs closed mid-import are not listed; their records are freed here.
      await removeAbandonedStaging(siteId).catch(() => 0);
      const { datasets, activeId } = await listDatasets(siteId, templateId);
      return datasets.map((d): DatasetSummary => ({
        id: d.id,
        name: d.name,
        source: d.source,
        studyId: d.studyId,
        records: d.count,
        labelCounts: d.labelCounts,
        ...splitCounts(d.labelCounts, fraction),
        fingerprint: d.fingerprint,
        createdAt: d.createdAt,
        bytes: d.bytes,
        active: d.id === activeId,
        missing: d.stats.features.filter((f) => f.missing > 0).map((f) => ({ feature: f.name, label: f.label, count: f.missing })),
      }));
    },

    async activateDataset(siteId, templateId, datasetId, split) {
      await activateDataset(siteId, templateId, datasetId);
      return describe(siteId, templateId, split);
    },

    async deleteDataset(siteId, templateId, datasetId, split) {
      await deleteDataset(siteId, datasetId);
      return describe(siteId, templateId, split);
    },
  };
}
