import { isImageBatch, type ImageBatch } from '../../shared/data/images/batch';
import { toUnitFloats } from '../../shared/data/images/pixels';
import { labelClasses } from '../../shared/data/stats';
import { applyNormalisation, type Normalisation } from '../../shared/fl/normalisation';
import { lesionSplit } from '../../shared/synthetic/lesions';
import { deriveSeed } from '../../shared/synthetic/rng';
import type { TaskTemplate } from '../../shared/tasks';
import { encodedWidth } from '../../shared/tasks/encoding';
import {
  bytesPerSample,
  chunkImageRows,
  encodeChunkRows,
  hospitalSplit,
  splitTrainValidation,
  storedSplit,
  subset,
  type Dataset,
  type TrainingData,
} from '../../shared/training';
import { activeDataset, chunkIndex, countLabels, loadRecords, readChunk, releaseLoadedRecords, type DatasetMeta } from './datasetStore';
import type { SplitConfig } from './protocol';

/**
 * A site's training and validation splits, as the worker trains and evaluates on them: built from the
 * active dataset in IndexedDB, held in memory or streamed a chunk at a time within the memory budget.
 */

/**
 * A dataset whose encoded samples take more than this is never loaded whole: training and evaluation
 * read it from IndexedDB a chunk at a time. The page may set another (`?memoryBudgetMb=`).
 */
const DEFAULT_MEMORY_BUDGET_BYTES = 256 * 2 ** 20;
let memoryBudgetBytes = DEFAULT_MEMORY_BUDGET_BYTES;

/** Sets the memory budget (bytes) that decides whether a dataset is held whole or streamed. */
export function setMemoryBudget(bytes: number): void {
  memoryBudgetBytes = bytes;
}

export interface Split {
  train: TrainingData;
  validation: TrainingData;
  records: number;
  labelCounts: number[];
  /** Set when the split is read from IndexedDB as it is used. */
  streaming: { blocks: number; budgetBytes: number; windowSamples: number } | null;
}
const splits = new Map<string, Split>();

/** Encoded values per sample of a template's data: feature columns, or pixels. */
function sampleWidth(tpl: TaskTemplate): number {
  return tpl.image ? tpl.image.height * tpl.image.width * tpl.image.channels : encodedWidth(tpl.features);
}

/**
 * What holding a dataset in memory costs per encoded byte: the stored records, their encoding and the
 * split copies. Measured: 200,000 heart records, 17.5 MiB encoded, peaked at 168 MiB of worker heap.
 */
const IN_MEMORY_OVERHEAD = 8;

/** Whether the dataset, held whole, would exceed the memory budget. */
export const streams = (tpl: TaskTemplate, meta: DatasetMeta) => meta.count * bytesPerSample(sampleWidth(tpl)) * IN_MEMORY_OVERHEAD > memoryBudgetBytes;

/**
 * Samples a streamed window may hold: a quarter of the budget, as the window, its shuffled copy, the
 * next window being read and the chunk being encoded are held at once.
 */
const windowSamples = (tpl: TaskTemplate) => Math.max(1, Math.floor(memoryBudgetBytes / (4 * bytesPerSample(sampleWidth(tpl)))));

/**
 * A site's active dataset for a template, split into training and validation data by the study's
 * settings: held in memory, or read from IndexedDB as it is used when it exceeds the memory budget.
 * Cached until the active dataset, the budget or the settings change.
 */
export async function siteSplit(siteId: string, tpl: TaskTemplate, config: SplitConfig = tpl.defaults): Promise<Split> {
  // Keyed by the active dataset and how it is held: an import, a switch of dataset or a new budget is
  // picked up at the next call.
  const meta = await activeDataset(siteId, tpl.id);
  if (!meta || meta.count === 0) throw new Error('This browser holds no records for the site yet');
  const streamed = streams(tpl, meta);
  const datasetKey = `${siteId}|${meta.id}|${streamed ? `stream-${memoryBudgetBytes}` : 'memory'}|`;
  const key = `${datasetKey}${tpl.id}|${config.validationFraction}|${config.seed}|${normalisationKey(config.normalisation)}`;
  const cached = splits.get(key);
  if (cached) return cached;
  for (const k of splits.keys()) if (k.startsWith(`${siteId}|`) && !k.startsWith(datasetKey)) splits.delete(k);
  const fractions = { validationFraction: config.validationFraction, seed: config.seed };
  let split: Split;
  if (streamed) {
    releaseLoadedRecords();
    const index = await chunkIndex(siteId, meta);
    // Encoded with the study's normalisation, as `hospitalSplit` encodes in memory.
    const features = applyNormalisation(tpl.features, config.normalisation);
    const image = tpl.image;
    const { train, validation } = storedSplit({
      labels: index.labels,
      chunkSizes: index.chunkSizes,
      ...fractions,
      splitKey: splitKey(siteId, meta),
      width: sampleWidth(tpl),
      ...(image ? { shape: [image.height, image.width, image.channels] } : {}),
      readRows: async (c, rows) => {
        const chunk = await readChunk(siteId, meta.id, index.chunks[c]);
        return isImageBatch(chunk) ? chunkImageRows(chunk, rows) : encodeChunkRows(features, chunk, rows);
      },
    });
    split = {
      train,
      validation,
      records: meta.count,
      labelCounts: countLabels(index.labels, labelClasses(tpl).length),
      streaming: { blocks: index.chunks.length, budgetBytes: memoryBudgetBytes, windowSamples: windowSamples(tpl) },
    };
  } else {
    const loaded = await loadRecords(siteId, tpl.id);
    if (loaded.count === 0) throw new Error('This browser holds no records for the site yet');
    // Demo data splits on its profile id, as the simulator and the central baseline do.
    const { train, validation } = loaded.images
      ? imageSplit(splitKey(siteId, meta), loaded.images, fractions)
      : hospitalSplit(tpl, splitKey(siteId, meta), loaded.records, fractions, config.normalisation);
    split = { train, validation, records: loaded.count, labelCounts: countLabels(loaded.labels, labelClasses(tpl).length), streaming: null };
  }
  splits.set(key, split);
  return split;
}

/**
 * Scans split as the simulator and the central baseline split the demo scans (`lesionSplit`): stratified
 * by label, seeded by the site, pixels scaled to [0, 1].
 */
function imageSplit(key: string, images: ImageBatch, config: { validationFraction: number; seed: number }): { train: Dataset; validation: Dataset } {
  const x = toUnitFloats(images.pixels);
  if (images.channels === 1) {
    return lesionSplit(key, { images: x, labels: images.labels, n: images.n, h: images.height, w: images.width, ids: images.ids }, config);
  }
  const ds: Dataset = { x, y: Float32Array.from(images.labels), n: images.n, width: images.height * images.width * images.channels, shape: [images.height, images.width, images.channels] };
  const { train, validation } = splitTrainValidation(ds.y, config.validationFraction, deriveSeed(config.seed, key));
  return { train: subset(ds, train), validation: subset(ds, validation) };
}

/** Demo data splits on its profile id, as the simulator and the central baseline do. */
export const splitKey = (siteId: string, meta: DatasetMeta | null) => meta?.profileId ?? siteId;

function normalisationKey(n: Normalisation | null | undefined): string {
  if (!n) return 'reference';
  const text = JSON.stringify(n);
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return `${n.sites}:${n.rows}:${h >>> 0}`;
}
