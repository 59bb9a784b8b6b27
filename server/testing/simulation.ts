import { asc, eq } from 'drizzle-orm';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Normalisation } from '../../shared/fl/normalisation';
import { lanes, ringAdd } from '../../shared/fl/secagg/ring';
import type { StrategyConfigInput } from '../../shared/fl/registry';
import type { ClinicalMetrics } from '../../shared/metrics/clinical';
import type { VersionEvaluation } from '../../shared/protocol/models';
import type { RoundClosed, StudyConfig, StudyConfigPatchInput, StudySummary } from '../../shared/protocol/schemas';
import { syntheticSites, type SyntheticSite } from '../../shared/synthetic/cohort';
import { getTemplate, type TaskTemplate } from '../../shared/tasks';
import type { Database } from '../db/client';
import { rounds as roundsTable, sites } from '../db/schema';
import { signIn, type RunningServer } from './harness';
import { SimulatedHospital, type AttackKind } from './simulatedHospital';
import type { Dropout } from './secureClient';
import { decodeWeights } from '../../shared/weights/codec';

export interface PoisonOptions {
  /** How many sites (the first ones, in site order) poison every round. */
  count: number;
  /** Each uploads `−scale × delta`: its honest delta, sign-flipped and scaled. */
  scale: number;
}

export interface SimulationOptions {
  templateId: string;
  hospitals: number;
  rounds: number;
  strategy?: StrategyConfigInput;
  /** Further study settings over the template's defaults (localEpochs, learningRate, fedProxMu, …). */
  config?: Omit<StudyConfigPatchInput, 'rounds' | 'strategy' | 'seed'>;
  /** The study's seed (initial model, splits, local shuffles) and the seed of the derived sites; default the template's. */
  seed?: number;
  poison?: PoisonOptions;
  /** The first site attacks so (see `AttackKind`); the others are honest. */
  attack?: AttackKind | null;
  /**
   * Secure aggregation (shared/fl/secagg): the sites clip their own updates at a fixed norm (the
   * template's first adaptive bound, `secureClipNorm`) and send masked ring encodings of them.
   */
  secureAggregation?: boolean;
  /** Under secure aggregation: k of SecAgg+'s sparse graph (`secureAggregation.neighbours`); default automatic. */
  neighbours?: number;
  /**
   * The first K sites drop out of their first round after sharing keys, before their masked input;
   * in a plaintext study they send no update that round.
   */
  dropBeforeMasking?: number;
  /**
   * The next K sites drop out of their first round after their masked input (which is in the sum),
   * before the unmasking; in a plaintext study they take part as usual.
   */
  dropAfterMasking?: number;
  /** Default: `sim-<template>-<strategy>-<time>`. */
  studyId?: string;
  /** Give up after this long (default 30 s per round plus a minute). */
  timeoutMs?: number;
  /** Each version's pooled figures, as soon as every site has reported them. */
  onRound?: (metrics: RoundMetrics) => void;
}

/** One model version's evaluation, pooled by the server over every site's validation split. */
export interface RoundMetrics {
  /** 0 for the initial model. */
  round: number;
  version: number;
  accuracy: number;
  loss: number;
  /** Binary tasks: the sites' AUROCs, sample-weighted (AUROC does not pool exactly). */
  auroc?: number;
  sensitivity?: number | null;
  specificity?: number | null;
  /** Multi-class tasks. */
  macroF1?: number;
  ece: number;
  numSamples: number;
  reports: number;
  /** Updates aggregated into this version (0 for round 0). */
  contributors: number;
  /** From the round's opening to its closing, as the first site saw them (training, uploads, aggregation). */
  seconds: number;
  /** Under differential privacy: ε the study has spent with this round (0 for round 0). */
  epsilon?: number;
}

export interface SimulationResult {
  studyId: string;
  template: string;
  strategy: StudyConfig['strategy'];
  config: StudyConfig;
  /**
   * `finalCorrect`: how many of the site's validation records the final model gets right, computed by
   * the simulation itself from the model the server published, not taken from any report.
   */
  sites: { id: string; name: string; records: number; train: number; validation: number; poisoned: boolean; attack: AttackKind | null; finalCorrect: number }[];
  rounds: RoundMetrics[];
  /** The study's federated feature statistics, as the server fixed them. */
  normalisation: Normalisation | null;
  seconds: number;
  /** The final model's weights, as the server published them. */
  finalWeights: Float32Array[];
  /** Under secure aggregation: each round's unmasked sum, checked against the sites' own inputs. */
  secure?: SecureRoundCheck[];
}

/** One secure round's sum, as the server unmasked it, against the plaintext sum of the survivors' ring inputs. */
export interface SecureRoundCheck {
  round: number;
  /** Sample indexes of the sites whose masked inputs were in the sum. */
  survivors: number[];
  /** The round's closing said it aggregated this many updates. */
  contributors: number;
  /** sha256 of the server's unmasked sum and of the sites' ring inputs added up (little-endian words). */
  serverSha256: string;
  expectedSha256: string;
  /** Σ min(records, cap) as the server decoded it and as the sites weighed themselves. */
  serverWeight: number;
  expectedWeight: number;
  /** The hashes are equal and the round announced as many contributors as there are survivors. */
  exact: boolean;
}

/** What the server reports of a secure round's sum (its aggregation report's `secureAggregation`). */
const secureReportSchema = z.object({
  survivors: z.array(z.number().int()),
  sumSha256: z.string(),
  weight: z.number(),
  bits: z.union([z.literal(32), z.literal(64)]),
  fractionBits: z.number(),
});

/** The fixed norm the sites clip to under secure aggregation: the template's first adaptive bound. */
export function secureClipNorm(template: TaskTemplate): number {
  const c = template.defaults.clipping as { mode: string; norm?: number; initialNorm?: number | null } | undefined;
  if (c?.mode === 'fixed' && c.norm) return c.norm;
  return c?.initialNorm ?? 2.5;
}

/** sha256 of ring words as little-endian bytes. */
function ringSha256(words: Uint32Array): string {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  words.forEach((w, i) => view.setUint32(4 * i, w, true));
  return createHash('sha256').update(bytes).digest('hex');
}

/** The pooled figures a run reports, from the server's own pooling of the sites' clinical metrics. */
export function figuresOf(global: ClinicalMetrics): Pick<RoundMetrics, 'accuracy' | 'loss' | 'auroc' | 'sensitivity' | 'specificity' | 'macroF1' | 'ece' | 'numSamples'> {
  const common = { accuracy: global.accuracy, loss: global.loss, ece: global.ece, numSamples: global.numSamples };
  return global.kind === 'binary'
    ? { ...common, auroc: global.auroc, sensitivity: global.sensitivity, specificity: global.specificity }
    : { ...common, macroF1: global.macroF1 };
}

/** One job at a time: TF.js work of every simulated site runs in turn, as on one core. */
function serialQueue() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(job: () => Promise<T>): Promise<T> => {
    const run = tail.then(job, job);
    tail = run.catch(() => undefined);
    return run;
  };
}

/**
 * A whole federation against a running server: the sites are created (idempotently) in its
 * database, the study is created by a platform admin over the REST API, and in-process hospitals
 * (`SimulatedHospital`) join, train, upload and evaluate until the study completes. Every figure
 * comes back from the server, pooled as the admin console shows it.
 */
export async function runSimulation(server: RunningServer, database: Database, options: SimulationOptions): Promise<SimulationResult> {
  const template: TaskTemplate | undefined = getTemplate(options.templateId);
  if (!template) throw new RangeError(`unknown template '${options.templateId}'`);
  const seed = options.seed ?? template.defaults.seed;
  const strategy = options.strategy ?? { name: 'fedavg' };
  const poison = options.poison ?? { count: 0, scale: 10 };
  if (poison.count > options.hospitals) throw new RangeError(`cannot poison ${poison.count} of ${options.hospitals} sites`);
  const cohort: SyntheticSite[] = syntheticSites(template.id, options.hospitals, seed);
  const studyId = options.studyId ?? `sim-${template.id.replace('@', '-v')}-${strategy.name}-${Date.now().toString(36)}`.slice(0, 63);
  const dropBefore = options.dropBeforeMasking ?? 0;
  const dropAfter = options.dropAfterMasking ?? 0;
  if (dropBefore + dropAfter > options.hospitals) throw new RangeError(`cannot drop ${dropBefore + dropAfter} of ${options.hospitals} sites`);
  const dropoutOf = (k: number): Dropout | null => (k < dropBefore ? 'before-masking' : k < dropBefore + dropAfter ? 'after-masking' : null);

  for (const s of cohort) await database.db.insert(sites).values({ id: s.id, name: s.name }).onConflictDoNothing();

  const { userId: _, ...admin } = await signIn(server);
  const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${server.url}${path}`, { ...init, headers: { ...admin, 'content-type': 'application/json', ...init.headers } });
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: HTTP ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };

  const n = options.hospitals;
  const study = await api<StudySummary>('/api/studies', {
    method: 'POST',
    body: JSON.stringify({
      id: studyId,
      name: `Simulation: ${template.name}, ${n} sites, ${strategy.name}`,
      templateId: template.id,
      siteIds: cohort.map((s) => s.id),
      config: {
        // Every site takes part in every round, and a round closes once all have sent their update.
        minParticipants: n,
        // Sites that drop before masking send nothing that round: it closes at its deadline on the others.
        minUpdates: n - dropBefore,
        participantFraction: 1,
        roundDeadlineMs: dropBefore + dropAfter > 0 ? (cohort[0]?.kind === 'images' ? 60_000 : 15_000) : 600_000,
        // Sites clip to a fixed norm: the template's first bound, or under differential privacy the privacy clip.
        ...(options.secureAggregation
          ? {
              secureAggregation: { fractionBits: null, neighbours: options.neighbours ?? null },
              ...(options.config?.privacy ? {} : { clipping: { mode: 'fixed' as const, norm: secureClipNorm(template) } }),
            }
          : {}),
        ...options.config,
        rounds: options.rounds,
        strategy,
        seed,
      },
    }),
  });
  const config = study.config;

  const started = performance.now();
  const opened = new Map<number, number>();
  const closed = new Map<number, RoundClosed & { seconds: number }>();
  const reports = new Map<number, number>();
  const roundOfVersion = new Map<number, number>([[0, 0]]);
  const results: RoundMetrics[] = [];
  let finalVersion: number | null = null;
  let published = Promise.resolve();

  let settle!: { resolve: () => void; reject: (err: unknown) => void };
  const finished = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  let failed = false;
  const fail = (err: unknown) => {
    if (failed) return;
    failed = true;
    settle.reject(err);
  };
  const timeoutMs = options.timeoutMs ?? 60_000 + 30_000 * options.rounds;
  const timeout = setTimeout(() => fail(new Error(`the simulation did not finish within ${(timeoutMs / 1000).toFixed(0)} s`)), timeoutMs);

  const publish = (version: number) => {
    published = published.then(async () => {
      if (failed) return;
      const ev = await api<VersionEvaluation>(`/api/studies/${studyId}/versions/${version}/evaluation`);
      if (!ev.global) throw new Error(`version ${version} has no pooled clinical metrics`);
      const round = roundOfVersion.get(version) ?? version;
      const c = closed.get(round);
      const metrics: RoundMetrics = {
        round,
        version,
        ...figuresOf(ev.global),
        reports: ev.sites.length,
        contributors: c?.contributors ?? 0,
        seconds: c?.seconds ?? 0,
        ...(config.privacy ? { epsilon: c?.privacy?.epsilon ?? 0 } : {}),
      };
      results.push(metrics);
      options.onRound?.(metrics);
      if (version === finalVersion) settle.resolve();
    });
    published.catch(fail);
  };

  const exclusive = serialQueue();
  const tokens = await Promise.all(cohort.map((s) => server.consilium.tokens.hospitalLink(s.id)));
  const hospitals = cohort.map(
    (site, k) =>
      new SimulatedHospital({
        url: server.url,
        studyId,
        template,
        config,
        site,
        token: tokens[k],
        poisonScale: k < poison.count ? poison.scale : null,
        attack: k === 0 ? (options.attack ?? null) : null,
        dropout: dropoutOf(k) ? { at: dropoutOf(k)!, rounds: 'first' } : null,
        exclusive,
        onRoundOpen: (open) => {
          if (!opened.has(open.round)) opened.set(open.round, performance.now());
        },
        onRoundClosed: (c) => {
          if (closed.has(c.round)) return;
          closed.set(c.round, { ...c, seconds: (performance.now() - (opened.get(c.round) ?? started)) / 1000 });
          if (c.status === 'abandoned') return fail(new Error(`round ${c.round} was abandoned (see the server's refused updates and round reasons)`));
          roundOfVersion.set(c.version!, c.round);
          // A private study may stop itself at its budget before its last round.
          if (c.studyStatus === 'completed' || c.studyStatus === 'stopped') finalVersion = c.version;
        },
        onEvaluated: (version) => {
          const count = (reports.get(version) ?? 0) + 1;
          reports.set(version, count);
          if (count === n) publish(version);
        },
        onError: fail,
      }),
  );

  try {
    for (const h of hospitals) await h.start();
    await finished;
    await published;
  } finally {
    clearTimeout(timeout);
    for (const h of hospitals) h.stop();
  }

  const summary = await api<StudySummary>(`/api/studies/${studyId}`);
  const final = await fetch(`${server.url}/api/studies/${studyId}/models/${summary.currentVersion}`, { headers: { authorization: `Bearer ${tokens[0]}` } });
  if (final.status !== 200) throw new Error(`the final model: HTTP ${final.status} ${await final.text()}`);
  const weights = decodeWeights(new Uint8Array(await final.arrayBuffer())).tensors.map((t) => t.data);
  const finalCorrect: number[] = [];
  for (const h of hospitals) finalCorrect.push((await h.validationCorrect(weights)).correct);
  const secure = config.secureAggregation ? await checkSecureSums(database, studyId, hospitals, closed) : undefined;
  return {
    studyId,
    template: template.id,
    strategy: config.strategy,
    config,
    sites: cohort.map((s, k) => {
      const sizes = hospitals[k].sizes();
      return { id: s.id, name: s.name, records: s.size, ...sizes, poisoned: k < poison.count, attack: k === 0 ? (options.attack ?? null) : null, finalCorrect: finalCorrect[k] };
    }),
    rounds: results.sort((a, b) => a.version - b.version),
    normalisation: summary.normalisation,
    seconds: (performance.now() - started) / 1000,
    finalWeights: weights,
    ...(secure ? { secure } : {}),
  };
}

/**
 * Each closed round's unmasked sum, as the server's aggregation report gives its hash, against the
 * ring inputs the surviving sites sent added up here: equal means the masks cancelled exactly and
 * every survivor's update is in the sum once.
 */
async function checkSecureSums(database: Database, studyId: string, hospitals: SimulatedHospital[], closed: Map<number, RoundClosed>): Promise<SecureRoundCheck[]> {
  const rows = await database.db
    .select({ number: roundsTable.number, status: roundsTable.status, report: roundsTable.aggregationReport })
    .from(roundsTable)
    .where(eq(roundsTable.studyId, studyId))
    .orderBy(asc(roundsTable.number));
  const checks: SecureRoundCheck[] = [];
  for (const row of rows) {
    if (row.status !== 'closed') continue;
    const parsed = secureReportSchema.safeParse((row.report as { secureAggregation?: unknown } | null)?.secureAggregation);
    if (!parsed.success) throw new Error(`round ${row.number} of the secure study has no secureAggregation report: ${parsed.error.message}`);
    const report = parsed.data;
    const inputs = report.survivors.map((index) => {
      const input = hospitals.map((h) => h.ringInput(row.number)).find((r) => r?.index === index);
      if (!input) throw new Error(`round ${row.number}: the server counts site ${index} among the survivors, but no site sent a masked input as ${index}`);
      return input;
    });
    const sum = new Uint32Array(inputs[0]?.words.length ?? 0);
    for (const input of inputs) ringAdd(sum, input.words, report.bits);
    const expectedSha256 = ringSha256(sum);
    const expectedWeight = inputs.reduce((s, x) => s + x.weight, 0);
    const contributors = closed.get(row.number)?.contributors ?? 0;
    checks.push({
      round: row.number,
      survivors: [...report.survivors].sort((a, b) => a - b),
      contributors,
      serverSha256: report.sumSha256,
      expectedSha256,
      serverWeight: report.weight,
      expectedWeight,
      // The round's closing must also have announced exactly the updates in the sum.
      exact: inputs.length > 0 && expectedSha256 === report.sumSha256.toLowerCase() && sum.length % lanes(report.bits) === 0 && contributors === inputs.length,
    });
  }
  return checks;
}
