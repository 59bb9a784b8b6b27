/**
 * The contract between the page and the training worker. Types only, so the main thread can
 * import it without pulling TensorFlow.js into its bundle.
 */
import type { Normalisation, SiteStatistics } from '../../shared/fl/normalisation';
import type { ClinicalMetrics } from '../../shared/metrics/clinical';
import type { BackendName, TrainingConfig } from '../../shared/protocol';
import type { BackendFigure } from './backendChoice';
import type { OutboxEvent, UploadOutcome } from './outboxPolicy';
import type { DatasetWorkerApi } from './datasetProtocol';
import type { AdvertiseRequest, AdvertisedKeys, RevealRequest, SecureRound, ShareKeysRequest, SharesForYou, UnmaskRequest } from '../../shared/protocol/secagg';

export interface InitOptions {
  /** Forced backend (the page's `?backend=`); otherwise the worker probes. */
  backend?: BackendName;
  /** The study's template: a convolutional model rules out backends without convolution gradients (WASM). */
  templateId?: string;
  /**
   * Most bytes a dataset's encoded samples and labels may take in memory (the page's
   * `?memoryBudgetMb=`); a larger dataset streams from IndexedDB a chunk at a time. Default 256 MiB.
   */
  memoryBudgetBytes?: number;
  /**
   * Test hook (the page's `?perturbBackend=`): that backend's gradients are made wrong during the
   * measurement, to show that a backend disagreeing with the CPU is refused. Never cached.
   */
  perturbBackend?: BackendName;
  /** How long a GPU backend may stay idle before it is released (default 60 s); tests shorten it. */
  gpuIdleReleaseMs?: number;
}

/** How the backend was chosen by measurement: one figure per backend, measured now or cached. */
export interface BackendProbe {
  figures: BackendFigure[];
  /** Taken from this browser's cache of an earlier measurement of the same model. */
  cached: boolean;
  measuredAt: string;
  /** How long measuring took (absent when cached). */
  durationMs?: number;
}

export interface InitResult {
  backend: BackendName;
  /** Human description of the device that runs the maths (GPU adapter, WebGL renderer, WASM features). */
  adapter?: string;
  /** Candidates passed over during probing, and why. */
  skipped: { backend: BackendName; reason: string }[];
  /** Present when the backend was chosen by measuring the study's model (not forced, model known). */
  probe?: BackendProbe;
}

/** The worker's TensorFlow.js memory once a job has finished: it must not grow round after round. */
export interface MemorySnapshot {
  job: 'train' | 'evaluate';
  /** The round trained, or the version evaluated. */
  round: number;
  backend: BackendName | null;
  numTensors: number;
  numBytes: number;
}

export interface BenchmarkArgs {
  siteId: string;
  templateId: string;
  /** Local epochs of the timed round; the template's default when absent. */
  epochs?: number;
  /** Seeds the initial weights and shuffles. Default 1. */
  seed?: number;
}

export interface BenchmarkResult {
  backend: BackendName;
  adapter?: string;
  numSamples: number;
  epochs: number;
  /** Wall time of the local training of one round (after a one-epoch warm-up), ms. */
  roundMs: number;
  samplesPerSecond: number;
}

export interface DatasetInfo {
  /** Records held in this browser for the site. */
  records: number;
  /** Records with label 1 (binary templates: the positives). */
  positives: number;
  /** Records per class index. */
  labelCounts: number[];
  train: number;
  validation: number;
  source: 'demo' | 'csv' | 'images' | 'none';
  profileId: string | null;
  /** The active dataset: its id, name (file or demo profile) and content fingerprint (SHA-256 hex). */
  datasetId: string | null;
  name: string | null;
  fingerprint: string | null;
  /**
   * Set when the dataset is larger than the worker's memory budget: training and evaluation read it
   * from IndexedDB in `blocks` stored chunks rather than holding it. Null when it is held in memory.
   */
  streaming?: { blocks: number; budgetBytes: number } | null;
}

/** How a site's records split into train and validation: the study's, else the template's defaults. */
export interface SplitConfig {
  validationFraction: number;
  seed: number;
  /** The study's federated feature statistics; before they exist, the template's reference ones. */
  normalisation?: Normalisation | null;
}

export interface TrainArgs {
  token: string;
  studyId: string;
  round: number;
  baseVersion: number;
  training: TrainingConfig;
  /** Seed of this round's local shuffling and dropout, derived from the study seed by the page. */
  seed: number;
  templateId: string;
  siteId: string;
  split?: SplitConfig;
  /** Under differential privacy (RoundOpen.clipNorm): the delta is clipped to this L2 norm before it is encoded. */
  clipNorm?: number;
  /**
   * A secure round (RoundOpen.secureAggregation), whose keys `secureOpen` made: the update goes into
   * the round masked (web/training/secure.ts), never to the outbox.
   */
  secure?: boolean;
}

export type TrainProgress =
  | { phase: 'loading'; round: number }
  /** `epoch` is the epoch in progress, 1-based; `loss` the latest batch or epoch loss. */
  | { phase: 'training'; round: number; epoch: number; epochs: number; batch?: number; loss?: number }
  | { phase: 'uploading'; round: number; attempt: number; epochs: number; loss?: number };

/** What the worker tells the page once this site's masked input is in a secure round. */
export interface MaskedSent {
  round: number;
  /** The server had it already (a retry after a lost answer). */
  duplicate: boolean;
}

export interface TrainResult {
  numSamples: number;
  losses: number[];
  /**
   * The update's upload: delivered, kept in the outbox for retries, or discarded by the server; in a
   * secure round, masked: sent, or waiting for the peers' key shares (then `secureReceived` sends it).
   */
  delivery: UploadOutcome | { status: 'masked'; sent: MaskedSent | null };
  backend: BackendName;
}

export interface EvaluateArgs {
  token: string;
  studyId: string;
  version: number;
  templateId: string;
  siteId: string;
  split?: SplitConfig;
  /** Send the score histograms (default true); false for a differentially private study. */
  histogram?: boolean;
}

export interface EvaluateResult {
  loss: number;
  accuracy: number;
  numSamples: number;
  backend: BackendName;
  clinical: ClinicalMetrics;
}

export interface LossCheckArgs {
  templateId: string;
  siteId: string;
  seed: number;
}

export interface LossCheckResult {
  backend: BackendName;
  loss: number;
  cpuLoss: number;
}

export interface TrainingWorkerApi extends DatasetWorkerApi {
  init(opts?: InitOptions): Promise<InitResult>;
  /** A template defined in the console (the page fetched it): checked and registered before the worker is asked about its studies. */
  registerTemplate(template: unknown): Promise<void>;
  getBackend(): BackendName | null;
  ensureDemoDataset(siteId: string, profileId: string, templateId?: string, split?: SplitConfig): Promise<DatasetInfo>;
  datasetInfo(siteId: string, templateId?: string, split?: SplitConfig): Promise<DatasetInfo>;
  train(args: TrainArgs, onProgress?: (p: TrainProgress) => void): Promise<TrainResult>;
  /** Secure rounds (web/training/secure.ts): the page relays these steps between the worker and the socket. */
  secureOpen(token: string, studyId: string, round: number, sa: SecureRound): Promise<AdvertiseRequest>;
  secureShareKeys(msg: AdvertisedKeys): Promise<ShareKeysRequest | null>;
  secureReceived(msg: SharesForYou): Promise<MaskedSent | null>;
  secureReveal(msg: UnmaskRequest): Promise<RevealRequest | null>;
  secureClose(studyId: string, round: number): void;
  evaluate(args: EvaluateArgs): Promise<EvaluateResult>;
  lossCheck(args: LossCheckArgs): Promise<LossCheckResult>;
  /** Streams the site's update outbox to the page and resumes delivering what an earlier tab left in it. */
  watchOutbox(siteId: string, token: string, listener: (e: OutboxEvent) => void): void;
  /** The connection is back: retry waiting updates now rather than at their backoff time. */
  retryOutbox(siteId: string): void;
  /** The worker's live TensorFlow.js tensors and bytes now, on its current backend, and the GPU backends it holds started. */
  memory(): { numTensors: number; numBytes: number; backend: BackendName | null; gpuHeld: BackendName[] };
  /** The memory after each training and evaluation job, oldest first (the last 100). */
  memoryTrace(): MemorySnapshot[];
  /** Times one local round on the site's data, from the template's initial weights; uploads nothing. For `npm run bench:browser`. */
  benchmark(args: BenchmarkArgs, onProgress?: (p: TrainProgress) => void): Promise<BenchmarkResult>;
  /** Aggregate statistics (counts, sums, sums of squares) of this site's training split: no row leaves. */
  localStatistics(siteId: string, templateId: string, split?: SplitConfig): Promise<SiteStatistics>;
}
