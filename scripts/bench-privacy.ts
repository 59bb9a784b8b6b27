/**
 * What site-level differential privacy (DP-FedAvg, shared/fl/privacy/sitePrivacy.ts) costs the final
 * model: a study at ε = 1, 3, 8 and without privacy, for a small and a large federation, each through
 * the real server (one server, one embedded database) with in-process hospitals:
 *
 *   npm run bench:privacy [-- --study heart-risk] [--sites 5,100] [--sample-rates 1,0.2] [--rounds 20]
 *     [--eps 1,3,8,inf] [--clip 1] [--delta 1e-5] [--seeds 2026,2027] [--evaluate-every R]
 *     [--noise central,distributed]
 *
 * `--noise distributed` repeats the private cells with distributed Skellam noise, as secure aggregation
 * under privacy adds it (shared/fl/secagg/distributedNoise.ts): z is the smallest that keeps the Skellam
 * accountant's ε (Zhu–Wang's subsampled bound) within the cell's ε; each round's weighted sum
 * Σ w·clip(Δ) = mean·q·W is encoded in the ring (round(·2^f) mod 2^bits, f and the ring from
 * `distributedPlan` for all N sites), t = ⌊n/2⌋ + 1 survivors' shares Sk(μ/t) are added to the ring words
 * one share at a time, and the ring is decoded and divided by q·W: the model sees the rounding and the
 * integer noise as the secure sum would carry them. (One rounding of the sum stands for the n roundings
 * of the sites' inputs: at most n/2 ring units apart, against noise of standard deviation z·2^f.) The
 * server's own noise is switched off for those studies (server/privacy/noise.ts, meanNoiseOverride);
 * sampling, clipping, weighting and the q·W denominator are the server's.
 *
 * For each finite ε the noise multiplier z is the smallest that keeps ε within it over the study's
 * rounds at its sampling rate q (`noiseFor`, δ as given); the budget is that ε. The row's noise-to-clip
 * ratio is z / (q·N): the noise on each round's mean in units of the clip C, N sites of full weight
 * (what the study form warns on); √d·z/(q·N) is the expected L2 norm of that noise over C, d the
 * model's parameters: the noise goes on every coordinate, the clip bounds the whole update.
 * ε = ∞ is plain FedAvg on the template's defaults (`privacy: null`); where q < 1 it samples the same
 * share of sites a round (participantFraction = minParticipants / N = q) so that the row differs from
 * the private ones by the mechanism — and by its first round opening once minParticipants sites have
 * joined, where a private study waits for all N. Figures are the server's pooled figures of the
 * final version over every site's validation split. Sites evaluate only the final version (and the one
 * they first train from): evaluateEvery = rounds unless given.
 *
 * Prints a markdown table (mean over seeds, with the range), one line per run, and last:
 * `bench-privacy: sites=5 eps=1 ratio=… acc=… auroc=…; …` (one line, every cell).
 */
import * as tf from '@tensorflow/tfjs';
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import { noiseFor } from '../shared/fl/privacy/rdp';
import { addSkellamNoise, distributedPlan, distributedStudySpent, noisyRingBits, type DistributedPlan } from '../shared/fl/secagg/distributedNoise';
import { minimumThreshold } from '../shared/fl/secagg/protocol';
import { decodeFixed, encodeFixed } from '../shared/fl/secagg/ring';
import { meanNoiseOverride } from '../server/privacy/noise';
import { noiseToClip, type SitePrivacyInput } from '../shared/fl/privacy/sitePrivacy';
import { cohortTemplates, syntheticSites } from '../shared/synthetic/cohort';
import { deriveSeed } from '../shared/synthetic/rng';
import { getTemplate, weightShapes } from '../shared/tasks';
import { splitTrainValidation } from '../shared/training/split';
import { openDatabase } from '../server/db/client';
import { closeAggregationWorker } from '../server/rounds/runInWorker';
import { startServer } from '../server/testing/harness';
import { runSimulation, type SimulationOptions } from '../server/testing/simulation';

const { values } = parseArgs({
  options: {
    study: { type: 'string', default: 'heart-risk' },
    sites: { type: 'string', default: '5,100' },
    'sample-rates': { type: 'string', default: '1,0.2' },
    rounds: { type: 'string', default: '20' },
    eps: { type: 'string', default: '1,3,8,inf' },
    // Below the template's median first-round update norm (2.5): later rounds' updates are smaller, and
    // the noise scales with C (measured: docs/benchmarks.md, site-level differential privacy).
    clip: { type: 'string', default: '1' },
    delta: { type: 'string', default: '1e-5' },
    seeds: { type: 'string', default: '2026,2027' },
    'evaluate-every': { type: 'string' },
    noise: { type: 'string', default: 'central,distributed' },
  },
});
const fail = (message: string): never => {
  console.error(message);
  process.exit(2);
};
const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
if (!(cohortTemplates as readonly string[]).includes(values.study)) fail(`--study must be one of ${cohortTemplates.join(', ')}`);
const template = getTemplate(values.study)!;
const parameters = weightShapes(template.model).reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
if (template.model.loss !== 'binaryCrossentropy') fail('--study must be a binary task (the table reports AUROC)');
const federations = list(values.sites).map(Number);
if (federations.some((n) => !Number.isInteger(n) || n < 1)) fail('--sites must be whole numbers ≥ 1, comma-separated');
const rates = list(values['sample-rates']).map(Number);
if (rates.length !== federations.length || rates.some((q) => !(q > 0 && q <= 1))) fail('--sample-rates: one rate in (0, 1] for each of --sites');
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) fail('--rounds must be a whole number ≥ 1');
const epsilons = list(values.eps).map((e) => (e === 'inf' || e === '∞' ? Infinity : Number(e)));
if (epsilons.some((e) => !(e > 0))) fail('--eps: positive numbers or inf, comma-separated');
const clip = Number(values.clip);
if (!(clip > 0)) fail('--clip must be positive');
const delta = Number(values.delta);
if (!(delta > 0 && delta <= 0.01)) fail('--delta must be in (0, 0.01]');
const seeds = list(values.seeds).map(Number);
if (!seeds.length || seeds.some((s) => !Number.isInteger(s) || s < 0)) fail('--seeds must be whole numbers, comma-separated');
const noiseKinds = list(values.noise);
if (!noiseKinds.length || noiseKinds.some((k) => k !== 'central' && k !== 'distributed')) fail('--noise: central, distributed or both, comma-separated');
const evaluateEvery = values['evaluate-every'] === undefined ? rounds : Number(values['evaluate-every']);
if (!Number.isInteger(evaluateEvery) || evaluateEvery < 1 || evaluateEvery > rounds) fail('--evaluate-every must be a whole number in [1, rounds]');

/** One cell of the table: a federation size and an ε, over the seeds. */
interface Cell {
  noise: 'central' | 'distributed';
  /** Distributed noise: its ring, precision and noise, for all N sites. */
  plan: DistributedPlan | null;
  sites: number;
  q: number;
  epsilon: number;
  /** null: no privacy. */
  z: number | null;
  ratio: number | null;
  runs: Run[];
}
interface Run {
  seed: number;
  accuracy: number;
  auroc: number;
  loss: number;
  epsilonSpent: number | null;
  roundsRun: number;
  seconds: number;
}

const fmtEps = (e: number) => (Number.isFinite(e) ? String(e) : '∞');
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const sig = (x: number, d = 4) => Number(x.toPrecision(d)).toString();
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const spread = (xs: number[], f: (x: number) => string) => (xs.length > 1 ? ` (${f(Math.min(...xs))}–${f(Math.max(...xs))})` : '');

/** Accuracy of always answering the pooled validation's majority class (the same splits the sites make). */
function majorityBaseline(n: number, seed: number): { accuracy: number; records: number } {
  let positive = 0;
  let total = 0;
  for (const site of syntheticSites(template.id, n, seed)) {
    if (site.kind !== 'tabular') continue;
    const labels = site.records.map((r) => r.label);
    const { validation } = splitTrainValidation(labels, template.defaults.validationFraction, deriveSeed(seed, site.id));
    for (const i of validation) positive += labels[i];
    total += validation.length;
  }
  return { accuracy: Math.max(positive, total - positive) / total, records: total };
}

/**
 * The smallest z (4 significant figures, rounded up) whose Skellam ε over the rounds stays within ε,
 * taken at 16 fraction bits: ε only falls as f grows (the Skellam term shrinks with the ring sensitivity).
 */
function distributedNoiseFor(q: number, epsilon: number): number {
  const eps = (z: number) => distributedStudySpent({ clipNorm: clip, noiseMultiplier: z, sampleRate: q, delta }, rounds, { fractionBits: 16, parameters }).epsilon;
  let hi = 1;
  while (eps(hi) > epsilon) hi *= 2;
  let lo = hi / 2;
  while (lo > 1e-3 && eps(lo) <= epsilon) lo /= 2;
  for (let i = 0; i < 50 && hi - lo > 1e-6 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (eps(mid) <= epsilon) hi = mid;
    else lo = mid;
  }
  const magnitude = 10 ** (Math.floor(Math.log10(hi)) - 3);
  return Number((Math.ceil(hi / magnitude - 1e-9) * magnitude).toPrecision(4));
}

const cells: Cell[] = [];
for (const noise of noiseKinds as ('central' | 'distributed')[]) {
  for (const [k, sites] of federations.entries()) {
    const q = rates[k];
    for (const epsilon of epsilons) {
      if (!Number.isFinite(epsilon)) {
        // No privacy, no noise: one row, in the central table.
        if (noise === 'central') cells.push({ noise, plan: null, sites, q, epsilon, z: null, ratio: null, runs: [] });
        continue;
      }
      if (noise === 'central') {
        // noiseFor rounds z up to 4 significant figures; strip the float tail so the config reads clean.
        const z = Number(noiseFor({ sampleRate: q, steps: rounds, delta, epsilon }).noise.toPrecision(4));
        cells.push({ noise, plan: null, sites, q, epsilon, z, ratio: noiseToClip({ noiseMultiplier: z, sampleRate: q }, sites), runs: [] });
        continue;
      }
      const z = distributedNoiseFor(q, epsilon);
      // The ring for the whole federation in one round (the most a Poisson sample can hold), t for all of them.
      const plan = distributedPlan(
        { clipNorm: clip, noiseMultiplier: z, sampleRate: q, delta, epsilonBudget: epsilon },
        { rounds, threshold: minimumThreshold(sites), sampled: sites, parameters, fractionBits: null },
      );
      // The noise on each coordinate of the mean over C: z·Δ2 / 2^f / (q·N) / C.
      const ratio = (z * plan.sensitivity.l2) / 2 ** plan.fractionBits / (q * sites * clip);
      cells.push({ noise, plan, sites, q, epsilon, z, ratio, runs: [] });
    }
  }
}

/** The round's mean as the secure sum under distributed noise would leave it (see the header). */
let current: Cell | null = null;
const distributedNoise: NonNullable<typeof meanNoiseOverride.apply> = (mean, privacy, updates) => {
  const plan = current?.plan;
  if (!plan) throw new Error('a private round without a distributed plan');
  try {
    applyDistributed(plan, mean, privacy.denominator, updates);
  } catch (err) {
    // The coordinator turns a failed aggregation into a stalled round: say why here.
    console.error('distributed noise failed:', err);
    throw err;
  }
};
function applyDistributed(plan: DistributedPlan, mean: Float64Array[], denominator: number, updates: number): void {
  const f = plan.fractionBits;
  const t = minimumThreshold(Math.max(updates, 1));
  const needed = noisyRingBits(Math.max(updates, 1), t, clip, f, plan.mu);
  if (needed > plan.bits) throw new Error(`the round's noisy sum needs ${needed} bits, the ring has ${plan.bits}`);
  const size = mean.reduce((n, m) => n + m.length, 0);
  const values = new Float64Array(size);
  let at = 0;
  for (const m of mean) {
    for (let i = 0; i < m.length; i++) values[at + i] = m[i] * denominator;
    at += m.length;
  }
  const words = encodeFixed(values, 1, f, plan.bits);
  for (let s = 0; s < t; s++) addSkellamNoise(words, plan.mu / t, plan.bits);
  const decoded = decodeFixed(words, f, plan.bits);
  at = 0;
  for (const m of mean) {
    for (let i = 0; i < m.length; i++) m[i] = decoded[at + i] / denominator;
    at += m.length;
  }
}

tf.enableProdMode();
await tf.setBackend('cpu');
const load0 = loadavg();
const started = performance.now();
console.log(
  `bench-privacy: ${template.id} (${parameters} parameters), sites ${federations.join(', ')} (q ${rates.join(', ')}), ${rounds} rounds, C ${clip}, δ ${delta}, seeds ${seeds.join(', ')}, evaluateEvery ${evaluateEvery}; ` +
    `${cpus().length} CPUs (${cpus()[0]?.model.trim()}), Node ${process.version}, load ${load0.map((l) => l.toFixed(2)).join(' ')}`,
);
const database = await openDatabase({});
const server = await startServer(database);
try {
  for (const cell of cells) {
    current = cell;
    meanNoiseOverride.apply = cell.plan ? distributedNoise : null;
    for (const seed of seeds) {
      const privacy: SitePrivacyInput | null =
        cell.z === null ? null : { clipNorm: clip, noiseMultiplier: cell.z, sampleRate: cell.q, delta, epsilonBudget: cell.epsilon, recordCap: 100 };
      // Without privacy and with q < 1, the same expected share of sites a round, sampled by the coordinator.
      const sampled = Math.max(1, Math.round(cell.q * cell.sites));
      const options: SimulationOptions = {
        templateId: template.id,
        hospitals: cell.sites,
        rounds,
        seed,
        studyId: `bench-${cell.noise === 'distributed' ? 'ddp' : 'dp'}-${cell.sites}-${fmtEps(cell.epsilon) === '∞' ? 'inf' : cell.epsilon}-${seed}-${Date.now().toString(36)}`.slice(0, 63),
        timeoutMs: 120_000 + 60_000 * rounds,
        config: {
          evaluateEvery,
          ...(privacy ? { privacy } : cell.q < 1 ? { participantFraction: cell.q, minParticipants: sampled, minUpdates: sampled } : {}),
        },
      };
      const result = await runSimulation(server, database, options);
      const last = result.rounds.at(-1)!;
      if (last.auroc === undefined) throw new Error('the final version has no pooled AUROC');
      const run: Run = {
        seed,
        accuracy: last.accuracy,
        auroc: last.auroc,
        loss: last.loss,
        // Distributed: the Skellam accountant's ε for the rounds run (the server's own figure is the central accountant's).
        epsilonSpent: cell.plan
          ? distributedStudySpent({ clipNorm: clip, noiseMultiplier: cell.z!, sampleRate: cell.q, delta }, last.round, { fractionBits: cell.plan.fractionBits, parameters }).epsilon
          : (last.epsilon ?? null),
        roundsRun: last.round,
        seconds: result.seconds,
      };
      cell.runs.push(run);
      console.log(
        `${cell.noise} sites=${cell.sites} q=${cell.q} eps=${fmtEps(cell.epsilon)} z=${cell.z ?? '-'} z/(qN)=${cell.ratio === null ? '-' : sig(cell.ratio, 3)} seed=${seed}: ` +
          `version ${last.version} after ${run.roundsRun} rounds, accuracy ${pct(run.accuracy)}, AUROC ${run.auroc.toFixed(3)}, loss ${run.loss.toFixed(3)}` +
          `${run.epsilonSpent !== null ? `, ε spent ${run.epsilonSpent.toFixed(3)}` : ''}, ${run.seconds.toFixed(0)} s`,
      );
    }
  }
} finally {
  await server.stop();
  await closeAggregationWorker();
  await database.close();
}
const seconds = (performance.now() - started) / 1000;
const load1 = loadavg();

console.log('');
console.log(`(d = ${parameters} parameters, √d = ${Math.sqrt(parameters).toFixed(1)}; accuracy and AUROC: mean over the seeds, range in brackets)`);
console.log('Central noise (the server adds Gaussian noise to the mean):');
console.log('| sites | ε | q | rounds | C | z | z/(q·N) | √d·z/(q·N) | accuracy | AUROC | loss | seeds |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const c of cells.filter((x) => x.noise === 'central')) {
  const acc = c.runs.map((r) => r.accuracy);
  const auc = c.runs.map((r) => r.auroc);
  const loss = c.runs.map((r) => r.loss);
  console.log(
    `| ${c.sites} | ${fmtEps(c.epsilon)} | ${c.q} | ${rounds} | ${c.z === null ? '–' : clip} | ${c.z === null ? '–' : sig(c.z)} | ${c.ratio === null ? '–' : sig(c.ratio, 3)} | ${c.ratio === null ? '–' : sig(Math.sqrt(parameters) * c.ratio, 3)} | ` +
      `${pct(mean(acc))}${spread(acc, pct)} | ${mean(auc).toFixed(3)}${spread(auc, (x) => x.toFixed(3))} | ${mean(loss).toFixed(3)} | ${c.runs.length} |`,
  );
}
const distributed = cells.filter((x) => x.noise === 'distributed');
if (distributed.length) {
  console.log('');
  console.log('Distributed noise (each of t = ⌊n/2⌋ + 1 survivors adds Sk(μ/t) in the ring; ε from the Skellam accountant):');
  console.log('| sites | ε | q | rounds | C | z | f | ring | μ/2^(2f) | ε spent | z·Δ2/(2^f·q·N) | √d·that | accuracy | AUROC | loss | seeds |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const c of distributed) {
    const acc = c.runs.map((r) => r.accuracy);
    const auc = c.runs.map((r) => r.auroc);
    const loss = c.runs.map((r) => r.loss);
    const spent = c.runs.map((r) => r.epsilonSpent ?? NaN);
    const plan = c.plan!;
    console.log(
      `| ${c.sites} | ${fmtEps(c.epsilon)} | ${c.q} | ${rounds} | ${clip} | ${sig(c.z!)} | ${plan.fractionBits} | 2^${plan.bits} (${plan.neededBits} used) | ${sig(plan.mu / 2 ** (2 * plan.fractionBits), 3)} | ${sig(Math.max(...spent), 4)} | ${sig(c.ratio!, 3)} | ${sig(Math.sqrt(parameters) * c.ratio!, 3)} | ` +
        `${pct(mean(acc))}${spread(acc, pct)} | ${mean(auc).toFixed(3)}${spread(auc, (x) => x.toFixed(3))} | ${mean(loss).toFixed(3)} | ${c.runs.length} |`,
    );
  }
}
console.log('');
for (const n of federations) {
  const b = seeds.map((s) => majorityBaseline(n, s));
  console.log(
    `majority class, ${n} sites: ${b.map((x, i) => `${pct(x.accuracy)} of ${x.records} validation records (seed ${seeds[i]})`).join(', ')}; AUROC of a constant answer 0.5`,
  );
}
console.log(`${template.id}, ${cells.length} cells × ${seeds.length} seeds: ${seconds.toFixed(0)} s; load ${load0.map((l) => l.toFixed(2)).join(' ')} before, ${load1.map((l) => l.toFixed(2)).join(' ')} after`);
console.log(
  `bench-privacy: ${cells
    .map((c) => `${c.noise === 'distributed' ? 'ddp ' : ''}sites=${c.sites} eps=${fmtEps(c.epsilon)} ratio=${c.ratio === null ? '-' : sig(c.ratio, 3)} acc=${mean(c.runs.map((r) => r.accuracy)).toFixed(3)} auroc=${mean(c.runs.map((r) => r.auroc)).toFixed(3)}`)
    .join('; ')}`,
);
