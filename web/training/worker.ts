import * as Comlink from 'comlink';
import type { BackendName } from '../../shared/protocol';
import { getTemplate, initialWeights, type TaskTemplate } from '../../shared/tasks';
import { siteStatistics, type Normalisation } from '../../shared/fl/normalisation';
import { deriveSeed } from '../../shared/synthetic/rng';
import { epochLoss, evaluateModel, hospitalSplit, splitTrainValidation, trainLocal, type Dataset } from '../../shared/training';
import { currentBackend, selectBackend, withBackend } from './backends';
import { createDatasetApi } from './datasets';
import { ensureDemoRecords, loadRecords, type LoadedDataset } from './datasetStore';
import { keepErrorCodes } from './errorTransfer';
import type {
  DatasetInfo,
  EvaluateArgs,
  InitOptions,
  InitResult,
  LossCheckArgs,
  SplitConfig,
  TrainArgs,
  TrainingWorkerApi,
  TrainProgress,
} from './protocol';
import { siteOutbox } from './outbox';
import { encodeUpdate, fetchModel, newIdempotencyKey } from './transfer';

/**
 * The hospital's training worker. It owns TensorFlow.js, the site's IndexedDB records and every
 * model and update transfer; the page sees only counts, losses and receipts.
 */

keepErrorCodes();

let initialised: Promise<InitResult> | null = null;
let forcedBackend: BackendName | undefined;

/** TensorFlow.js work runs one job at a time: a backend switch must never interleave with training. */
let queue: Promise<unknown> = Promise.resolve();
function exclusive<T>(job: () => Promise<T>): Promise<T> {
  const run = queue.then(job, job);
  queue = run.catch(() => undefined);
  return run;
}

function ready(): Promise<InitResult> {
  return initialised ?? api.init();
}

function template(id: string): TaskTemplate {
  const t = getTemplate(id);
  if (!t) throw new Error(`Unknown task template "${id}"`);
  return t;
}

interface Split {
  train: Dataset;
  validation: Dataset;
  loaded: LoadedDataset;
}
const splits = new Map<string, Split>();

async function siteSplit(siteId: string, tpl: TaskTemplate, config: SplitConfig = tpl.defaults): Promise<Split> {
  // Keyed by the active dataset too: an import or a switch of dataset is picked up at the next call.
  const loaded = await loadRecords(siteId, tpl.id);
  const datasetKey = `${siteId}|${loaded.meta?.id ?? 'none'}|`;
  const key = `${datasetKey}${tpl.id}|${config.validationFraction}|${config.seed}|${normalisationKey(config.normalisation)}`;
  const cached = splits.get(key);
  if (cached) return cached;
  for (const k of splits.keys()) if (k.startsWith(`${siteId}|`) && !k.startsWith(datasetKey)) splits.delete(k);
  if (loaded.records.length === 0) throw new Error('This browser holds no records for the site yet');
  // Demo data splits on its profile id, as the simulator and the central baseline do.
  const { train, validation } = hospitalSplit(
    tpl,
    splitKey(siteId, loaded),
    loaded.records,
    { validationFraction: config.validationFraction, seed: config.seed },
    config.normalisation,
  );
  const split = { train, validation, loaded };
  splits.set(key, split);
  return split;
}

/** Demo data splits on its profile id, as the simulator and the central baseline do. */
const splitKey = (siteId: string, loaded: LoadedDataset) => loaded.meta?.profileId ?? siteId;

function normalisationKey(n: Normalisation | null | undefined): string {
  if (!n) return 'reference';
  const text = JSON.stringify(n);
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return `${n.sites}:${n.rows}:${h >>> 0}`;
}

async function describeDataset(siteId: string, templateId: string, split?: SplitConfig): Promise<DatasetInfo> {
  const loaded = await loadRecords(siteId, templateId);
  if (loaded.records.length === 0) {
    return { records: 0, positives: 0, train: 0, validation: 0, source: 'none', profileId: null, datasetId: null, name: null, fingerprint: null };
  }
  const { train, validation } = await siteSplit(siteId, template(templateId), split);
  return {
    records: loaded.records.length,
    positives: loaded.records.reduce((s, r) => s + (r.label === 1 ? 1 : 0), 0),
    train: train.n,
    validation: validation.n,
    source: loaded.meta?.source ?? 'demo',
    profileId: loaded.meta?.profileId ?? null,
    datasetId: loaded.meta?.id ?? null,
    name: loaded.meta?.name ?? null,
    fingerprint: loaded.meta?.fingerprint ?? null,
  };
}

const finiteOrUndefined = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : undefined);

const PROGRESS_INTERVAL_MS = 250;

const api: TrainingWorkerApi = {
  ...createDatasetApi(describeDataset),

  init(opts: InitOptions = {}) {
    if (initialised && (opts.backend === undefined || opts.backend === forcedBackend)) return initialised;
    forcedBackend = opts.backend;
    const attempt = exclusive(() => selectBackend(opts.backend));
    initialised = attempt;
    attempt.catch(() => {
      if (initialised === attempt) initialised = null;
    });
    return attempt;
  },

  getBackend() {
    return currentBackend();
  },

  async ensureDemoDataset(siteId, profileId, templateId = 'heart-risk', split) {
    await ensureDemoRecords(siteId, profileId, template(templateId));
    return describeDataset(siteId, templateId, split);
  },

  datasetInfo(siteId, templateId = 'heart-risk', split) {
    return describeDataset(siteId, templateId, split);
  },

  async train(args: TrainArgs, onProgress?: (p: TrainProgress) => void) {
    const report = (p: TrainProgress) => {
      // Fire and forget: a slow page must not slow training down.
      if (onProgress) Promise.resolve(onProgress(p)).catch(() => undefined);
    };
    try {
      const { backend } = await ready();
      return await exclusive(async () => {
        const tpl = template(args.templateId);
        const { train } = await siteSplit(args.siteId, tpl, args.split);
        const { round, training } = args;
        const epochs = training.localEpochs;
        const outbox = siteOutbox(args.siteId, args.token);
        // An update for this round already waits in the outbox (a reload, a second tab): a second one
        // would be refused as a duplicate, so it is not trained again.
        if (await outbox.holds(args.studyId, round)) {
          const delivery = { status: 'queued', reason: 'an update for this round is already waiting in the outbox', earlier: true } as const;
          return { numSamples: 0, losses: [], delivery, backend };
        }
        report({ phase: 'loading', round });
        const base = await fetchModel(args.token, args.studyId, args.baseVersion, tpl.model);

        const cheapReads = backend === 'cpu' || backend === 'wasm';
        let epochsDone = 0;
        let lastReport = 0;
        report({ phase: 'training', round, epoch: 1, epochs });
        const result = await trainLocal({
          spec: tpl.model,
          weights: base.map((w) => w.slice()),
          data: train,
          epochs,
          batchSize: training.batchSize,
          learningRate: training.learningRate,
          seed: args.seed,
          // Reading a batch's loss forces a GPU sync; on GPU backends progress comes once per epoch.
          onBatchEnd: cheapReads
            ? (batch, loss) => {
                const now = Date.now();
                if (now - lastReport < PROGRESS_INTERVAL_MS) return;
                lastReport = now;
                report({ phase: 'training', round, epoch: Math.min(epochsDone + 1, epochs), epochs, batch, loss: finiteOrUndefined(loss) });
              }
            : undefined,
          onEpochEnd: (_epoch, loss) => {
            epochsDone++;
            lastReport = Date.now();
            report({ phase: 'training', round, epoch: epochsDone, epochs, loss: finiteOrUndefined(loss) });
          },
        });

        const trainLoss = finiteOrUndefined(result.losses[result.losses.length - 1]);
        const body = encodeUpdate(
          {
            studyId: args.studyId,
            round,
            baseVersion: args.baseVersion,
            numSamples: result.numSamples,
            backend,
            ...(trainLoss !== undefined ? { trainLoss } : {}),
          },
          tpl.model,
          result.delta,
        );
        report({ phase: 'uploading', round, attempt: 1, epochs, loss: trainLoss });
        // Stored in the outbox first, then sent; a failure leaves it there for the retry loop.
        const delivery = await outbox.submit({ id: newIdempotencyKey(), studyId: args.studyId, round, baseVersion: args.baseVersion, body });
        return { numSamples: result.numSamples, losses: result.losses, delivery, backend };
      });
    } finally {
      (onProgress as unknown as { [Comlink.releaseProxy]?: () => void } | undefined)?.[Comlink.releaseProxy]?.();
    }
  },

  async evaluate(args: EvaluateArgs) {
    const { backend } = await ready();
    return exclusive(async () => {
      const tpl = template(args.templateId);
      const { validation } = await siteSplit(args.siteId, tpl, args.split);
      if (validation.n === 0) throw new Error('The validation split is empty');
      const weights = await fetchModel(args.token, args.studyId, args.version, tpl.model);
      const m = await evaluateModel(tpl.model, weights, validation);
      return { loss: m.loss, accuracy: m.accuracy, numSamples: m.numSamples, backend, clinical: m.clinical };
    });
  },

  async localStatistics(siteId: string, templateId: string, split?: SplitConfig) {
    const tpl = template(templateId);
    const config = split ?? tpl.defaults;
    const loaded = await loadRecords(siteId, tpl.id);
    if (loaded.records.length === 0) throw new Error('This browser holds no records for the site yet');
    // Over the training split only, so the validation rows stay unseen by the normalisation too.
    const { train } = splitTrainValidation(
      loaded.records.map((r) => r.label),
      config.validationFraction,
      deriveSeed(config.seed, splitKey(siteId, loaded)),
    );
    return siteStatistics(tpl.features, Array.from(train, (i) => loaded.records[i]));
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
    const { backend } = await ready();
    return exclusive(async () => {
      const tpl = template(args.templateId);
      const { train } = await siteSplit(args.siteId, tpl);
      const run = () =>
        epochLoss({
          spec: tpl.model,
          weights: initialWeights(tpl.model, args.seed),
          data: train,
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
