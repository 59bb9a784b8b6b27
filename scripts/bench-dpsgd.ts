/**
 * Record-level DP-SGD (shared/training/dpsgd.ts, issue 22): what it costs in speed and in accuracy.
 *
 *   npm run bench:dpsgd [-- --backends cpu,wasm --reps 3 --acc-reps 3 --eps 1,3,8,inf --rounds 10]
 *
 * (a) Training speed, samples/s, per backend (TF.js cpu and wasm in Node), for the heart-risk model
 *     (22 → 16 → 1) and a bigger MLP (64 → 256 → 256 → 1): plain trainLocal (batches of 32) against
 *     DP-SGD at q = 32/n (expected batch 32) by ghost norms and by microbatches of one. The modes
 *     alternate within each repetition (A/B/C, A/B/C, …) so a change in the machine's load hits all;
 *     the median of the repetitions is printed. DP-SGD's samples are its expected q·n a step.
 * (b) Pooled validation accuracy of heart-risk federated across the demo hospitals (their seeded
 *     synthetic data, the template's 10 rounds of 2 local epochs, Adam at 0.01, FedAvg), every site
 *     training with DP-SGD at C = 1 and its own per-site ε ∈ {1, 3, 8, ∞}: q = 32/n, its steps
 *     2·round(1/q) a round, and z the smallest that keeps its ε over all rounds' steps (`noiseFor`,
 *     δ 1e-5); ∞ is clipping without noise. "no DP" is plain trainLocal. DP randomness is seeded here
 *     (repetition k: seed k) so the figures repeat; the product draws it from crypto.getRandomValues.
 * Last line: `dpsgd: ...`.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadavg } from 'node:os';
import { fedAvg, type WeightedUpdate } from '../shared/fl/fedavg';
import { noiseFor } from '../shared/fl/privacy/rdp';
import { mulberry32, deriveSeed } from '../shared/synthetic/rng';
import { heartRisk } from '../shared/tasks/heartRisk';
import { initialWeights } from '../shared/tasks/modelSpec';
import type { ModelSpec } from '../shared/tasks/spec';
import { concat, type Dataset } from '../shared/training/dataset';
import { demoSplits } from '../shared/training/central';
import { normalFrom, type DpRandom } from '../shared/training/dpRandom';
import type { DpSgdOptions } from '../shared/training/dpsgd';
import { evaluateModel } from '../shared/training/evaluate';
import { trainLocal } from '../shared/training/train';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const backends = opt('backends', 'cpu,wasm').split(',');
const reps = Number(opt('reps', '3'));
const accReps = Number(opt('acc-reps', '3'));
const epsilons = opt('eps', '1,3,8,inf').split(',').map((e) => (e === 'inf' ? Infinity : Number(e)));
const rounds = Number(opt('rounds', '10'));
const BATCH = 32;
const CLIP = 1;
const DELTA = 1e-5;

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const seeded = (seed: number): DpRandom => ({ uniform: mulberry32(seed), normal: normalFrom(mulberry32(seed ^ 0x9e3779b9)) });

tf.enableProdMode();
console.log(`bench:dpsgd  ${new Date().toISOString()}  load ${load()}`);

// ---- (a) speed ----
const heartSites = demoSplits(heartRisk);
const heartData = heartSites[0].train;
const bigSpec: ModelSpec = {
  inputDim: 64,
  layers: [
    { type: 'dense', units: 256, activation: 'relu' },
    { type: 'dense', units: 256, activation: 'relu' },
    { type: 'dense', units: 1, activation: 'sigmoid' },
  ],
  loss: 'binaryCrossentropy',
  optimizer: 'adam',
};
/** 2000 random rows labelled by a random linear rule: speed does not depend on the data. */
function randomData(n: number, width: number): Dataset {
  const r = mulberry32(17);
  const x = Float32Array.from({ length: n * width }, () => r() * 2 - 1);
  const w = Array.from({ length: width }, () => r() - 0.5);
  const y = Float32Array.from({ length: n }, (_, i) => (w.reduce((s, wj, j) => s + wj * x[i * width + j], 0) > 0 ? 1 : 0));
  return { x, y, n, width };
}
const models = [
  { name: 'heart-risk 22-16-1', spec: heartRisk.model, data: heartData },
  { name: 'MLP 64-256-256-1', spec: bigSpec, data: randomData(2000, 64) },
];
type Mode = 'plain' | 'ghost' | 'microbatch';
const MODES: Mode[] = ['plain', 'ghost', 'microbatch'];
// Steps per timed run: about a second each on one core.
const STEPS: Record<string, Record<Mode, number>> = {
  'heart-risk 22-16-1': { plain: 200, ghost: 200, microbatch: 15 },
  'MLP 64-256-256-1': { plain: 20, ghost: 20, microbatch: 3 },
};

async function timed(spec: ModelSpec, data: Dataset, mode: Mode, steps: number): Promise<number> {
  const q = BATCH / data.n;
  const dpSgd: DpSgdOptions | undefined = mode === 'plain' ? undefined : { clipNorm: CLIP, noiseMultiplier: 1.1, sampleRate: q, method: mode };
  const started = performance.now();
  await trainLocal({ spec, weights: initialWeights(spec, 1), data, steps, batchSize: BATCH, learningRate: 0.01, seed: 1, dpSgd });
  return (steps * BATCH) / ((performance.now() - started) / 1000);
}

const speed: { backend: string; model: string; mode: Mode; samplesPerS: number }[] = [];
for (const backend of backends) {
  if (!(await tf.setBackend(backend))) {
    console.log(`backend ${backend} unavailable`);
    continue;
  }
  for (const { name, spec, data } of models) {
    for (const mode of MODES) await timed(spec, data, mode, 2); // warm-up
    const runs: Record<Mode, number[]> = { plain: [], ghost: [], microbatch: [] };
    for (let r = 0; r < reps; r++) for (const mode of MODES) runs[mode].push(await timed(spec, data, mode, STEPS[name][mode]));
    for (const mode of MODES) speed.push({ backend, model: name, mode, samplesPerS: median(runs[mode]) });
  }
}
console.log(`\n(a) samples/s (median of ${reps}, modes alternating), load ${load()}`);
console.log('backend  model                 plain      ghost      microbatch  ghost/plain  micro/plain');
for (const backend of backends)
  for (const { name } of models) {
    const get = (m: Mode) => speed.find((s) => s.backend === backend && s.model === name && s.mode === m)?.samplesPerS ?? NaN;
    const [p, g, m] = MODES.map(get);
    console.log(`${backend.padEnd(8)} ${name.padEnd(20)} ${p.toFixed(0).padStart(8)} ${g.toFixed(0).padStart(10)} ${m.toFixed(0).padStart(12)} ${(g / p).toFixed(2).padStart(11)} ${(m / p).toFixed(3).padStart(12)}`);
  }

// ---- (b) accuracy ----
await tf.setBackend('cpu');
const { defaults, model: spec } = heartRisk;
const validation = concat(heartSites.map((s) => s.validation));
const plan = heartSites.map((s) => {
  const q = Math.min(1, BATCH / s.train.n);
  const stepsPerRound = defaults.localEpochs * Math.max(1, Math.round(1 / q));
  return { q, stepsPerRound };
});
/** Per site, the z that keeps its ε within `eps` over all its planned steps (0 for ∞). */
const noiseOf = (eps: number) => plan.map(({ q, stepsPerRound }) => (eps === Infinity ? 0 : noiseFor({ sampleRate: q, steps: stepsPerRound * rounds, delta: DELTA, epsilon: eps }).noise));

async function federate(eps: number | null, rep: number): Promise<{ accuracy: number; auroc: number }> {
  const z = eps === null ? null : noiseOf(eps);
  let global = initialWeights(spec, defaults.seed + rep);
  for (let round = 1; round <= rounds; round++) {
    const updates: WeightedUpdate[] = [];
    for (const [k, site] of heartSites.entries()) {
      const common = { spec, weights: global, data: site.train, learningRate: defaults.learningRate, batchSize: BATCH, seed: deriveSeed(defaults.seed + rep, `round-${round}:${site.profile.id}`) };
      const { delta, numSamples } =
        z === null
          ? await trainLocal({ ...common, epochs: defaults.localEpochs })
          : await trainLocal({
              ...common,
              steps: plan[k].stepsPerRound,
              dpSgd: { clipNorm: CLIP, noiseMultiplier: z[k], sampleRate: plan[k].q, random: seeded(deriveSeed(rep, `${round}:${k}:${eps}`)) },
            });
      updates.push({ participantId: site.profile.id, numSamples, delta });
    }
    global = fedAvg(global, updates);
  }
  const evaluation = await evaluateModel(spec, global, validation);
  return { accuracy: evaluation.accuracy, auroc: (evaluation.clinical as { auroc?: number | null }).auroc ?? NaN };
}

const rows: { label: string; z: string; accuracy: number[]; auroc: number[] }[] = [];
rows.push({ label: 'no DP', z: '-', accuracy: [], auroc: [] });
for (const eps of epsilons) rows.push({ label: `ε ${eps === Infinity ? '∞' : eps}`, z: noiseOf(eps).map((v) => v.toFixed(2)).join('/'), accuracy: [], auroc: [] });
const started = performance.now();
for (let rep = 0; rep < accReps; rep++) {
  for (const [i, eps] of [null, ...epsilons].entries()) {
    const { accuracy, auroc } = await federate(eps, rep);
    rows[i].accuracy.push(accuracy);
    rows[i].auroc.push(auroc);
  }
}
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
console.log(`\n(b) heart-risk, ${heartSites.length} sites (train ${heartSites.map((s) => s.train.n).join('/')}), ${rounds} rounds, per-site q ${plan.map((p) => p.q.toFixed(3)).join('/')}, steps/round ${plan.map((p) => p.stepsPerRound).join('/')}, C ${CLIP}, δ ${DELTA}; pooled validation (${validation.n} records), mean of ${accReps} (min–max); ${((performance.now() - started) / 1000).toFixed(0)} s; load ${load()}`);
console.log('setting  z per site                      accuracy               AUROC');
const range = (v: number[]) => `${mean(v).toFixed(3)} (${Math.min(...v).toFixed(3)}–${Math.max(...v).toFixed(3)})`;
for (const r of rows) console.log(`${r.label.padEnd(8)} ${r.z.padEnd(31)} ${range(r.accuracy).padEnd(22)} ${range(r.auroc)}`);

const ghostCost = speed.filter((s) => s.mode === 'ghost').map((s) => `${s.backend}/${s.model.split(' ')[0]} ${(s.samplesPerS / speed.find((p) => p.backend === s.backend && p.model === s.model && p.mode === 'plain')!.samplesPerS).toFixed(2)}x`);
const ghostVsMicro = speed.filter((s) => s.mode === 'ghost').map((s) => (s.samplesPerS / speed.find((p) => p.backend === s.backend && p.model === s.model && p.mode === 'microbatch')!.samplesPerS).toFixed(0));
console.log(`dpsgd: ghost/plain ${ghostCost.join(', ')}; ghost ${Math.min(...ghostVsMicro.map(Number))}-${Math.max(...ghostVsMicro.map(Number))}x faster than microbatch; accuracy ${rows.map((r) => `${r.label.replace(' ', '')}=${mean(r.accuracy).toFixed(3)}`).join(' ')}`);
