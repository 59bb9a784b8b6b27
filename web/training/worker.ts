import * as Comlink from 'comlink';
import { batchRowsToRecords } from '../../shared/data/columnar';
import { isImageBatch } from '../../shared/data/images/batch';
import type { BackendName } from '../../shared/protocol';
import { getTemplate, initialWeights, registerTemplate, taskTemplateSchema, type ModelSpec, type TaskTemplate } from '../../shared/tasks';
import { addSiteStatistics, emptySiteStatistics, siteStatistics } from '../../shared/fl/normalisation';
import { clipToNorm } from '../../shared/fl/privacy/sitePrivacy';
import { deriveSeed } from '../../shared/synthetic/rng';
import { epochLoss, epochsForSteps, evaluateModel, isBlockSource, localWork, rowsByBlock, splitTrainValidation, subset, trainLocal } from '../../shared/training';
import { unsuitableFor } from './backendChoice';
import * as tf from '@tensorflow/tfjs';
import { chooseMeasuredBackend, currentBackend, ensureActive, heldGpuBackends, releaseCurrentGpuBackend, selectBackend, withBackend } from './backends';
import { createDatasetApi } from './datasets';
import { activeDataset, chunkIndex, loadRecords, readChunk } from './datasetStore';
import { ensureDemoRecords } from './demoDatasets';
import { keepErrorCodes } from './errorTransfer';
import type {
  DatasetInfo,
  EvaluateArgs,
  InitOptions,
  InitResult,
  LossCheckArgs,
  MemorySnapshot,
  SplitConfig,
  TrainArgs,
  TrainingWorkerApi,
  TrainProgress,
} from './protocol';
import { siteOutbox } from './outbox';
import { SecureRounds } from './secure';
import { finiteOrUndefined, trainingProgress } from './progress';
import { setMemoryBudget, siteSplit, splitKey, streams } from './splits';
import { encodeUpdate, fetchModel, newIdempotencyKey } from './transfer';

/**
 * The hospital's training worker. It owns TensorFlow.js, the site's IndexedDB records and every
 * model and update transfer; the page sees only counts, losses and receipts.
 */

keepErrorCodes();

let initialised: Promise<InitResult> | null = null;
/** This site's secure rounds: their keys, seeds and masked inputs never leave the worker. */
const secureRounds = new SecureRounds();
let forcedBackend: BackendName | undefined;
/** The model the backend must be able to train, once the page (or a job) has named the template. */
let modelSpec: ModelSpec | undefined;
/** Test hook: the backend whose gradients the measurement makes wrong. */
let perturbBackend: BackendName | undefined;

/**
 * A GPU backend idle this long is released (device memory, programs); the next job starts it again.
 * Long enough that the evaluation following a round, and the next round of a busy study, keep it.
 */
const IDLE_RELEASE_MS = 60_000;
let idleReleaseMs = IDLE_RELEASE_MS;
let idleTimer: ReturnType<typeof setTimeout> | null = null;
let running = 0;

/** TensorFlow.js work runs one job at a time: a backend switch must never interleave with training. */
let queue: Promise<unknown> = Promise.resolve();
function exclusive<T>(job: () => Promise<T>): Promise<T> {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = null;
  running++;
  const run = queue.then(job, job);
  queue = run.catch(() => undefined);
  void queue.then(() => {
    if (--running > 0) return;
    idleTimer = setTimeout(() => {
      // Queued behind any job that slipped in meanwhile; such a job starts the backend again.
      queue = queue.then(() => running === 0 && releaseCurrentGpuBackend());
    }, idleReleaseMs);
  });
  return run;
}

/** A job on `backend`, started again first if an idle release or a probe left another current. */
const exclusiveOn = <T>(backend: BackendName, job: () => Promise<T>): Promise<T> =>
  exclusive(async () => {
    await ensureActive(backend);
    return job();
  });

/** The backend, able to train `tpl`'s model: a convolutional one never runs on WASM. */
function ready(tpl?: TaskTemplate): Promise<InitResult> {
  if (tpl && tpl.model !== modelSpec) return api.init({ templateId: tpl.id });
  return initialised ?? api.init();
}

const MEMORY_TRACE_LENGTH = 100;
const memoryTrace: MemorySnapshot[] = [];
/** Called at the end of a job, inside `exclusive`: nothing else holds tensors then. */
function recordMemory(job: MemorySnapshot['job'], round: number): void {
  const m = tf.memory();
  memoryTrace.push({ job, round, backend: currentBackend(), numTensors: m.numTensors, numBytes: m.numBytes });
  if (memoryTrace.length > MEMORY_TRACE_LENGTH) memoryTrace.shift();
}

function template(id: string): TaskTemplate {
  const t = getTemplate(id);
  if (!t) throw new Error(`Unknown task template "${id}"`);
  return t;
}

async function describeDataset(siteId: string, templateId: string, split?: SplitConfig): Promise<DatasetInfo> {
  const tpl = template(templateId);
  const meta = await activeDataset(siteId, tpl.id);
  if (!meta || meta.count === 0) {
    return { records: 0, positives: 0, labelCounts: [], train: 0, validation: 0, source: 'none', profileId: null, datasetId: null, name: null, fingerprint: null, streaming: null };
  }
  const { train, validation, records, labelCounts, streaming } = await siteSplit(siteId, tpl, split);
  return {
    records,
    // Per class: a multi-class template has no single "positive" class.
    positives: labelCounts[1] ?? 0,
    labelCounts,
    train: train.n,
    validation: validation.n,
    source: meta.source,
    profileId: meta.profileId,
    datasetId: meta.id,
    name: meta.name,
    fingerprint: meta.fingerprint,
    streaming: streaming && { blocks: streaming.blocks, budgetBytes: streaming.budgetBytes },
  };
}

/** Fire and forget: a slow page must not slow training down. */
const reporter = (onProgress?: (p: TrainProgress) => void) => (p: TrainProgress) => {
  if (onProgress) Promise.resolve(onProgress(p)).catch(() => undefined);
};
const releaseCallback = (fn: unknown) => (fn as { [Comlink.releaseProxy]?: () => void } | undefined)?.[Comlink.releaseProxy]?.();

const api: TrainingWorkerApi = {
  ...createDatasetApi(describeDataset),

  async registerTemplate(raw: unknown) {
    registerTemplate(taskTemplateSchema.parse(raw));
  },

  init(opts: InitOptions = {}) {
    if (opts.memoryBudgetBytes !== undefined) {
      if (!(Number.isFinite(opts.memoryBudgetBytes) && opts.memoryBudgetBytes > 0)) throw new RangeError(`memory budget must be a positive number of bytes, got ${opts.memoryBudgetBytes}`);
      setMemoryBudget(opts.memoryBudgetBytes);
    }
    if (opts.perturbBackend) perturbBackend = opts.perturbBackend;
    if (opts.gpuIdleReleaseMs !== undefined) {
      if (!(Number.isFinite(opts.gpuIdleReleaseMs) && opts.gpuIdleReleaseMs >= 0)) throw new RangeError(`the idle release delay must be a number of milliseconds, got ${opts.gpuIdleReleaseMs}`);
      idleReleaseMs = opts.gpuIdleReleaseMs;
    }
    const tpl = opts.templateId ? template(opts.templateId) : undefined;
    const spec = tpl ? tpl.model : modelSpec;
    const sameBackend = opts.backend === undefined || opts.backend === forcedBackend;
    if (initialised && sameBackend && spec === modelSpec) return initialised;
    const prior = sameBackend ? initialised : null;
    // A forced backend stays forced: a later call without one (a job naming its template) keeps it.
    if (opts.backend !== undefined) forcedBackend = opts.backend;
    modelSpec = spec;
    const forced = forcedBackend;
    const batchSize = tpl?.defaults.batchSize;
    // Forced: that backend alone, no measuring. Otherwise, once the model is known, the fastest
    // correct backend for it, measured (or cached); before that, the first that starts.
    const attempt = (async () => {
      const current = prior ? await prior.catch(() => null) : null;
      if (forced || !spec) {
        if (current && !unsuitableFor(current.backend, spec)) return current;
        return exclusive(() => selectBackend(forced, spec));
      }
      return exclusive(() => chooseMeasuredBackend(spec, { ...(batchSize ? { batchSize } : {}), ...(perturbBackend ? { perturbBackend } : {}) }));
    })();
    initialised = attempt;
    attempt.catch(() => {
      if (initialised === attempt) initialised = null;
    });
    return attempt;
  },

  getBackend() {
    return currentBackend();
  },

  memory() {
    // Released while idle: no backend is current and no tensor lives (a release needs none). Asking
    // TensorFlow.js now would start the highest-priority backend outside a job.
    if (currentBackend() === null) return { numTensors: 0, numBytes: 0, backend: null, gpuHeld: heldGpuBackends() };
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes, backend: currentBackend(), gpuHeld: heldGpuBackends() };
  },

  memoryTrace() {
    return memoryTrace.slice();
  },

  async benchmark(args, onProgress) {
    try {
      const tpl = template(args.templateId);
      const init = await ready(tpl);
      return await exclusiveOn(init.backend, async () => {
        const { train, streaming } = await siteSplit(args.siteId, tpl);
        const seed = args.seed ?? 1;
        const epochs = args.epochs ?? tpl.defaults.localEpochs;
        const options = {
          spec: tpl.model,
          weights: initialWeights(tpl.model, seed),
          data: train,
          ...(streaming ? { windowSamples: streaming.windowSamples } : {}),
          batchSize: tpl.defaults.batchSize,
          learningRate: tpl.defaults.learningRate,
          seed,
        };
        // A few warm-up steps compile the GPU programs, as a tab's first round does once.
        const warmup = isBlockSource(train) ? train : subset(train, Array.from({ length: Math.min(train.n, 2 * options.batchSize) }, (_, i) => i));
        await trainLocal({ ...options, data: warmup, epochs: 1 });
        const start = performance.now();
        const result = await trainLocal({ ...options, epochs, ...trainingProgress(init.backend, 0, epochs, reporter(onProgress)) });
        const roundMs = performance.now() - start;
        return {
          backend: init.backend,
          ...(init.adapter ? { adapter: init.adapter } : {}),
          numSamples: result.numSamples,
          epochs,
          roundMs,
          samplesPerSecond: (result.numSamples * epochs * 1000) / roundMs,
        };
      });
    } finally {
      releaseCallback(onProgress);
    }
  },

  async ensureDemoDataset(siteId, profileId, templateId = 'heart-risk', split) {
    await ensureDemoRecords(siteId, profileId, template(templateId));
    return describeDataset(siteId, templateId, split);
  },

  datasetInfo(siteId, templateId = 'heart-risk', split) {
    return describeDataset(siteId, templateId, split);
  },

  async train(args: TrainArgs, onProgress?: (p: TrainProgress) => void) {
    const report = reporter(onProgress);
    try {
      const tpl = template(args.templateId);
      const { backend } = await ready(tpl);
      return await exclusiveOn(backend, async () => {
        const { train, streaming } = await siteSplit(args.siteId, tpl, args.split);
        const { round, training } = args;
        const work = localWork(training);
        // Counting steps, progress still goes by epochs: those the steps span on this site, the last one partial.
        const epochs = 'steps' in work ? epochsForSteps(train.n, training.batchSize, work.steps) : work.epochs;
        const outbox = siteOutbox(args.siteId, args.token);
        // An update for this round already waits in the outbox (a reload, a second tab): a second one
        // would be refused as a duplicate, so it is not trained again.
        if (!args.secure && (await outbox.holds(args.studyId, round))) {
          const delivery = { status: 'queued', reason: 'an update for this round is already waiting in the outbox', earlier: true } as const;
          return { numSamples: 0, losses: [], delivery, backend };
        }
        report({ phase: 'loading', round });
        const base = await fetchModel(args.token, args.studyId, args.baseVersion, tpl.model);

        const progress = trainingProgress(backend, round, epochs, report);
        const result = await trainLocal({
          spec: tpl.model,
          weights: base.map((w) => w.slice()),
          data: train,
          ...(streaming ? { windowSamples: streaming.windowSamples } : {}),
          ...work,
          batchSize: training.batchSize,
          learningRate: training.learningRate,
          // The study's choices for this round; absent from older servers.
          ...(training.optimizer ? { optimizer: training.optimizer } : {}),
          ...(training.fedProxMu ? { fedProxMu: training.fedProxMu } : {}),
          // Record-level DP-SGD: the steps the server assigned (and counted) for this site, on Poisson samples of its records.
          ...(training.dpSgd ? { dpSgd: { clipNorm: training.dpSgd.clipNorm, noiseMultiplier: training.dpSgd.noiseMultiplier, sampleRate: training.dpSgd.sampleRate } } : {}),
          seed: args.seed,
          ...progress,
        });

        const trainLoss = finiteOrUndefined(result.losses[result.losses.length - 1]);
        // Under DP-SGD the loss is not private (no noise, outside the accountant): shown here, never sent.
        const sentLoss = training.dpSgd ? undefined : trainLoss;
        if (args.secure) {
          // Clipped to the round's norm, weighed, encoded and masked by the round's party: the server sees the sum only.
          report({ phase: 'uploading', round, attempt: 1, epochs, loss: trainLoss });
          const sent = await secureRounds.input(args.studyId, round, result.delta, result.numSamples);
          recordMemory('train', round);
          return { numSamples: result.numSamples, losses: result.losses, delivery: { status: 'masked', sent } as const, backend };
        }
        // Under differential privacy the update leaves the browser clipped (the server clips again).
        if (args.clipNorm !== undefined) clipToNorm(result.delta, args.clipNorm);
        const body = encodeUpdate(
          {
            studyId: args.studyId,
            round,
            baseVersion: args.baseVersion,
            numSamples: result.numSamples,
            backend,
            ...(sentLoss !== undefined ? { trainLoss: sentLoss } : {}),
          },
          tpl.model,
          result.delta,
        );
        report({ phase: 'uploading', round, attempt: 1, epochs, loss: trainLoss });
        // Stored in the outbox first, then sent; a failure leaves it there for the retry loop.
        const delivery = await outbox.submit({ id: newIdempotencyKey(), studyId: args.studyId, round, baseVersion: args.baseVersion, body });
        recordMemory('train', round);
        return { numSamples: result.numSamples, losses: result.losses, delivery, backend };
      });
    } finally {
      releaseCallback(onProgress);
    }
  },

  secureOpen: (token, studyId, round, sa) => secureRounds.open(token, studyId, round, sa),
  secureShareKeys: (msg) => secureRounds.shareKeys(msg),
  secureReceived: (msg) => secureRounds.received(msg),
  secureReveal: (msg) => secureRounds.reveal(msg),
  secureClose: (studyId, round) => secureRounds.close(studyId, round),

  async evaluate(args: EvaluateArgs) {
    const tpl = template(args.templateId);
    const { backend } = await ready(tpl);
    return exclusiveOn(backend, async () => {
      const { validation } = await siteSplit(args.siteId, tpl, args.split);
      if (validation.n === 0) throw new Error('The validation split is empty');
      const weights = await fetchModel(args.token, args.studyId, args.version, tpl.model);
      const m = await evaluateModel(tpl.model, weights, validation, { histogram: args.histogram !== false });
      recordMemory('evaluate', args.version);
      return { loss: m.loss, accuracy: m.accuracy, numSamples: m.numSamples, backend, clinical: m.clinical };
    });
  },

  async localStatistics(siteId: string, templateId: string, split?: SplitConfig) {
    const tpl = template(templateId);
    const config = split ?? tpl.defaults;
    const meta = await activeDataset(siteId, tpl.id);
    if (!meta || meta.count === 0) throw new Error('This browser holds no records for the site yet');
    const seed = deriveSeed(config.seed, splitKey(siteId, meta));
    if (!streams(tpl, meta)) {
      const loaded = await loadRecords(siteId, tpl.id);
      // Over the training split only, so the validation rows stay unseen by the normalisation too.
      const { train } = splitTrainValidation(loaded.labels, config.validationFraction, seed);
      // Scans have no features to standardise: the study learns only how many training samples there are.
      if (tpl.image) return { rows: train.length, numeric: {}, categorical: {} };
      return siteStatistics(tpl.features, Array.from(train, (i) => loaded.records[i]));
    }
    // Streamed: the same training rows, read a chunk at a time and added in the same order.
    const index = await chunkIndex(siteId, meta);
    const { train } = splitTrainValidation(index.labels, config.validationFraction, seed);
    if (tpl.image) return { rows: train.length, numeric: {}, categorical: {} };
    const stats = emptySiteStatistics(tpl.features);
    const rows = rowsByBlock(train, index.chunkSizes);
    for (let c = 0; c < rows.length; c++) {
      if (rows[c].length === 0) continue;
      const chunk = await readChunk(siteId, meta.id, index.chunks[c]);
      if (isImageBatch(chunk)) throw new Error(`The stored dataset "${meta.name}" does not hold records; import it again.`);
      addSiteStatistics(stats, tpl.features, batchRowsToRecords(chunk, rows[c]));
    }
    return stats;
  },

  watchOutbox(siteId, token, listener) {
    siteOutbox(siteId, token).subscribe((e) => {
      Promise.resolve(listener(e)).catch(() => undefined);
    });
  },

  retryOutbox(siteId) {
    siteOutbox(siteId).nudge();
  },

  async lossCheck(args: LossCheckArgs) {
    const tpl = template(args.templateId);
    const { backend } = await ready(tpl);
    return exclusiveOn(backend, async () => {
      const { train, streaming } = await siteSplit(args.siteId, tpl);
      const run = () =>
        epochLoss({
          spec: tpl.model,
          weights: initialWeights(tpl.model, args.seed),
          data: train,
          ...(streaming ? { windowSamples: streaming.windowSamples } : {}),
          batchSize: tpl.defaults.batchSize,
          learningRate: tpl.defaults.learningRate,
          seed: args.seed,
        });
      const loss = await run();
      const cpuLoss = await withBackend('cpu', run);
      return { backend, loss, cpuLoss };
    });
  },
};

Comlink.expose(api);
