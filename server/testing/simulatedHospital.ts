import { clipToNorm } from '../../shared/fl/privacy/sitePrivacy';
import { siteStatistics, type Normalisation, type SiteStatistics } from '../../shared/fl/normalisation';
import type { JoinResult, RoundClosed, RoundOpen, StudyConfig } from '../../shared/protocol/schemas';
import type { SyntheticSite } from '../../shared/synthetic/cohort';
import { lesionSplit } from '../../shared/synthetic/lesions';
import { deriveSeed } from '../../shared/synthetic/rng';
import { weightShapes, type TaskTemplate } from '../../shared/tasks';
import type { Dataset } from '../../shared/training/dataset';
import { evaluateModel, type Evaluation } from '../../shared/training/evaluate';
import { hospitalSplit, splitTrainValidation } from '../../shared/training/split';
import { localWork, trainLocal } from '../../shared/training/train';
import { decodeWeights, encodeWeights } from '../../shared/weights/codec';
import { connectSocket, emitAck, type ClientSocket } from './harness';
import { SecureClient, type Dropout, type RingInput } from './secureClient';

/**
 * What a hostile site does (`npm run simulate -- --attack KIND`): `scale` uploads its delta × 10^6,
 * `values` an update of 3·10^38 everywhere, `samples` declares 10^8 samples and reports 10^8 records,
 * `flip` uploads −10 × its delta, `report` sends forged perfect evaluation reports (and trains honestly).
 */
export const attackKinds = ['scale', 'values', 'samples', 'flip', 'report'] as const;
export type AttackKind = (typeof attackKinds)[number];
const ATTACK_SAMPLES = 100_000_000;

export interface HospitalContext {
  url: string;
  studyId: string;
  template: TaskTemplate;
  config: StudyConfig;
  site: SyntheticSite;
  token: string;
  /** Poisoned sites upload `−scale × delta` instead of their delta; null for an honest site. */
  poisonScale: number | null;
  /** This site attacks the federation so (null: honest). */
  attack?: AttackKind | null;
  /**
   * This site drops out so (./secureClient.ts) in the first round it is sampled for, or in every one.
   * In a plaintext study `before-masking` means it sends no update that round, `after-masking` nothing
   * (its update is in the sum either way), so the two modes can be compared site for site.
   */
  dropout?: { at: Dropout; rounds: 'first' | 'every' } | null;
  /** Runs TF.js work one job at a time across every simulated site of the process. */
  exclusive<T>(job: () => Promise<T>): Promise<T>;
  onRoundOpen(open: RoundOpen): void;
  onRoundClosed(closed: RoundClosed): void;
  onEvaluated(version: number): void;
  onError(err: unknown): void;
}

interface Split {
  train: Dataset;
  validation: Dataset;
}

/**
 * One hospital as its browser tab behaves, in process: it joins over Socket.IO, sends its aggregate
 * statistics first, encodes and splits its data exactly as the tab's worker does (`hospitalSplit`
 * with the study's seed, validation fraction and federated normalisation), trains each round it is
 * sampled for with the shared TF.js core, uploads the delta over HTTP and evaluates every version.
 */
export class SimulatedHospital {
  private socket: ClientSocket | null = null;
  private normalisation: Normalisation | null = null;
  private split: Split | null = null;
  private models = new Map<number, Float32Array[]>();
  private evaluated = new Set<number>();
  private started = false;
  private secure: SecureClient | null = null;
  private firstRound: number | null = null;

  constructor(private readonly ctx: HospitalContext) {}

  get id(): string {
    return this.ctx.site.id;
  }

  /** Training and validation sizes under the template's reference encoding (the counts do not depend on it). */
  sizes(): { train: number; validation: number } {
    const labels = this.labels();
    const { train, validation } = splitTrainValidation(labels, this.ctx.config.validationFraction, deriveSeed(this.ctx.config.seed, this.id));
    return { train: train.length, validation: validation.length };
  }

  async start(): Promise<void> {
    const { ctx } = this;
    const socket = await connectSocket(ctx.url, { token: ctx.token });
    this.socket = socket;
    this.secure = new SecureClient({ url: ctx.url, studyId: ctx.studyId, token: ctx.token, id: this.id, onError: (err) => ctx.onError(err) }, socket);
    socket.on('round:open', (open) => this.onRoundOpen(open));
    socket.on('round:closed', (closed) => {
      this.secure?.close(closed.round);
      ctx.onRoundClosed(closed);
      if (closed.version === null) return;
      if (closed.evaluate ?? (closed.version % ctx.config.evaluateEvery === 0 || closed.studyStatus === 'completed')) this.schedule(() => this.evaluate(closed.version!));
    });
    const records = ctx.attack === 'samples' ? ATTACK_SAMPLES : this.sizes().train;
    const joined = await emitAck(socket, 'hospital:join', { studyId: ctx.studyId, numSamples: records, backend: 'cpu' });
    if (!joined.ok) throw new Error(`${this.id} could not join: ${joined.error.message}`);
    const data = joined.data as JoinResult;
    if (data.statisticsNeeded) {
      const ack = await emitAck(socket, 'hospital:statistics', { studyId: ctx.studyId, statistics: this.statistics() });
      if (!ack.ok) throw new Error(`${this.id}: statistics refused: ${ack.error.message}`);
    }
    if (data.openRound) this.onRoundOpen(data.openRound);
  }

  private onRoundOpen(open: RoundOpen): void {
    this.ctx.onRoundOpen(open);
    this.normalisation = open.normalisation;
    // The model the first round starts from (version 0: "round 0") is evaluated before it is trained on.
    if (!this.started) {
      this.started = true;
      this.schedule(() => this.evaluate(open.baseVersion));
    }
    this.firstRound ??= open.round;
    const dropout = this.dropoutIn(open.round);
    if (open.secureAggregation) this.secure?.open({ ...open, secureAggregation: open.secureAggregation }, dropout);
    // A site that drops before masking stops for the round: it has nothing to send, so it trains nothing.
    if (dropout !== 'before-masking') this.schedule(() => this.train(open));
  }

  private dropoutIn(round: number): Dropout | null {
    const d = this.ctx.dropout;
    if (!d) return null;
    return d.rounds === 'every' || round === this.firstRound ? d.at : null;
  }

  /** What this site fed a secure round's sum (the rounds it sent a masked input in). */
  ringInput(round: number): RingInput | undefined {
    return this.secure?.ringInputs.get(round);
  }

  stop(): void {
    this.socket?.disconnect();
    this.socket = null;
  }

  private schedule(job: () => Promise<void>): void {
    void this.ctx.exclusive(job).catch((err) => this.ctx.onError(err));
  }

  private labels(): ArrayLike<number> {
    const { site } = this.ctx;
    return site.kind === 'tabular' ? site.records.map((r) => r.label) : site.scans.labels;
  }

  /** As the tab's worker computes them: over the training split only, so validation rows stay unseen. */
  private statistics(): SiteStatistics {
    const { site, template, config } = this.ctx;
    const { train } = splitTrainValidation(this.labels(), config.validationFraction, deriveSeed(config.seed, site.id));
    if (site.kind === 'images') return { rows: train.length, numeric: {}, categorical: {} };
    return siteStatistics(template.features, Array.from(train, (i) => site.records[i]));
  }

  private data(): Split {
    if (this.split) return this.split;
    const { site, template, config } = this.ctx;
    const fractions = { validationFraction: config.validationFraction, seed: config.seed };
    this.split =
      site.kind === 'tabular' ? hospitalSplit(template, site.id, site.records, fractions, this.normalisation) : lesionSplit(site.id, site.scans, fractions);
    return this.split;
  }

  private async model(version: number): Promise<Float32Array[]> {
    const cached = this.models.get(version);
    if (cached) return cached;
    const res = await fetch(`${this.ctx.url}/api/studies/${this.ctx.studyId}/models/${version}`, { headers: { authorization: `Bearer ${this.ctx.token}` } });
    if (res.status !== 200) throw new Error(`${this.id}: model ${version}: HTTP ${res.status} ${await res.text()}`);
    const weights = decodeWeights(new Uint8Array(await res.arrayBuffer())).tensors.map((t) => t.data);
    this.models.clear();
    this.models.set(version, weights);
    return weights;
  }

  private async train(open: RoundOpen): Promise<void> {
    const { ctx } = this;
    const global = await this.model(open.baseVersion);
    const { train } = this.data();
    const result = await trainLocal({
      spec: ctx.template.model,
      weights: global,
      data: train,
      ...localWork(open.training),
      batchSize: open.training.batchSize,
      learningRate: open.training.learningRate,
      optimizer: open.training.optimizer,
      fedProxMu: open.training.fedProxMu,
      // The tab's seed for this site and round.
      seed: deriveSeed(ctx.config.seed, `${ctx.site.id}/round-${open.round}`),
    });
    const scale = ctx.poisonScale;
    let delta = scale === null ? result.delta : result.delta.map((t) => t.map((v) => -scale * v));
    if (ctx.attack === 'scale') delta = delta.map((t) => t.map((v) => v * 1e6));
    else if (ctx.attack === 'values') delta = delta.map((t) => new Float32Array(t.length).fill(3e38));
    else if (ctx.attack === 'flip') delta = delta.map((t) => t.map((v) => -10 * v));
    const numSamples = ctx.attack === 'samples' ? ATTACK_SAMPLES : result.numSamples;
    // Under secure aggregation the update never leaves the site: only its masked ring encoding does.
    if (open.secureAggregation) return this.secure!.submit(open.round, delta, numSamples);
    // Under differential privacy the tab clips before it uploads (the server clips again).
    if (open.clipNorm !== undefined) clipToNorm(delta, open.clipNorm);
    const trainLoss = result.losses.at(-1);
    const shapes = weightShapes(ctx.template.model);
    const body = encodeWeights({
      kind: 'update',
      meta: {
        studyId: ctx.studyId,
        round: open.round,
        baseVersion: open.baseVersion,
        numSamples,
        backend: 'cpu',
        ...(trainLoss !== undefined && Number.isFinite(trainLoss) ? { trainLoss } : {}),
      },
      tensors: delta.map((data, i) => ({ shape: shapes[i].shape, data })),
    });
    const res = await fetch(`${ctx.url}/api/studies/${ctx.studyId}/rounds/${open.round}/updates`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ctx.token}`,
        'content-type': 'application/octet-stream',
        'idempotency-key': `${ctx.site.id}-round-${open.round}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 128),
      },
      body,
    });
    if (res.status !== 200) throw new Error(`${this.id}: update for round ${open.round} refused: HTTP ${res.status} ${await res.text()}`);
  }

  private async evaluate(version: number): Promise<void> {
    if (this.evaluated.has(version)) return;
    this.evaluated.add(version);
    if (!this.socket) return;
    const { ctx } = this;
    const weights = await this.model(version);
    const honest = await evaluateModel(ctx.template.model, weights, this.data().validation);
    const ev = ctx.attack === 'report' ? forgedPerfect(honest) : honest;
    const ack = await emitAck(this.socket!, 'hospital:evaluation', {
      studyId: ctx.studyId,
      version,
      loss: ev.loss,
      accuracy: ev.accuracy,
      numSamples: ev.numSamples,
      backend: 'cpu',
      clinical: ev.clinical,
    });
    if (!ack.ok) throw new Error(`${this.id}: evaluation of version ${version} refused: ${ack.error.message}`);
    ctx.onEvaluated(version);
  }

  /** Correct predictions of a model on this site's validation records, computed here, not reported. */
  async validationCorrect(weights: Float32Array[]): Promise<{ correct: number; total: number }> {
    const ev = await evaluateModel(this.ctx.template.model, weights, this.data().validation);
    return { correct: Math.round(ev.accuracy * ev.numSamples), total: ev.numSamples };
  }
}

/**
 * A perfect evaluation as a forger would send it: every figure consistent with every other, all of them
 * made up, the score histograms too (each class's samples at its own end of the scale).
 */
export function forgedPerfect(ev: Evaluation): Evaluation {
  const c = ev.clinical;
  const n = ev.numSamples;
  const bins = { count: c.calibration.count.map(() => 0), confidence: c.calibration.confidence.map(() => 0), correct: c.calibration.correct.map(() => 0) };
  const last = bins.count.length - 1;
  bins.count[last] = n;
  bins.correct[last] = n;
  bins.confidence[last] = n * 0.999;
  const loss = -Math.log(0.999);
  if (c.kind === 'binary') {
    const positives = c.confusion.tp + c.confusion.fn;
    const negatives = c.confusion.tn + c.confusion.fp;
    const histogram = c.histogram && {
      bins: c.histogram.bins,
      negative: negatives ? [[0, negatives] as [number, number]] : [],
      positive: positives ? [[c.histogram.bins - 1, positives] as [number, number]] : [],
    };
    const clinical = {
      ...c,
      loss,
      accuracy: 1,
      auroc: positives && negatives ? 1 : 0.5,
      sensitivity: positives ? 1 : null,
      specificity: negatives ? 1 : null,
      confusion: { tp: positives, fp: 0, tn: negatives, fn: 0 },
      ece: 0.001,
      calibration: bins,
      ...(histogram ? { histogram } : {}),
    };
    return { ...ev, loss, accuracy: 1, clinical };
  }
  const confusion = c.confusion.map((row, a) => row.map((_, p) => (a === p ? row.reduce((s, v) => s + v, 0) : 0)));
  const histogram = c.histogram && {
    bins: c.histogram.bins,
    perClass: confusion.map((row, k) => {
      const support = row[k];
      return {
        positive: support ? [[c.histogram!.bins - 1, support] as [number, number]] : [],
        negative: n - support ? [[0, n - support] as [number, number]] : [],
      };
    }),
  };
  const clinical = {
    ...c,
    loss,
    accuracy: 1,
    confusion,
    recall: c.recall.map((r) => (r === null ? null : 1)),
    macroF1: 1,
    ece: 0.001,
    calibration: bins,
    ...(histogram ? { histogram } : {}),
  };
  return { ...ev, loss, accuracy: 1, clinical };
}
