/**
 * FedAvg, FedProx and FedYogi against a centrally trained model and against each hospital alone,
 * in one run: `npm run compare [-- --hospitals 5 --rounds 20 --seed N --mu 0.01 --yogi '{"serverLearningRate":0.01}' --json FILE --database URL]`.
 *
 * The federated runs are real studies on an in-process server (scripts/simulate.ts, same engine).
 * The baselines use the very same sites, splits and model spec: the central model trains on every
 * site's training split pooled, encoded with the study's federated statistics; each hospital alone
 * trains on its own split, encoded with its own statistics. Both train rounds × localEpochs epochs
 * (what each federated site trains in total) with the template's optimiser, batch size and learning
 * rate. Every model is scored per site on the sites' validation splits and pooled the way the
 * server pools (accuracy and loss exact, AUROC sample-weighted over sites).
 */
import * as tf from '@tensorflow/tfjs';
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { combineStatistics, siteStatistics, type Normalisation } from '../shared/fl/normalisation';
import { poolClinicalMetrics, type ClinicalMetrics } from '../shared/metrics/clinical';
import { syntheticSites, type SyntheticSite } from '../shared/synthetic/cohort';
import { deriveSeed } from '../shared/synthetic/rng';
import { heartRisk, initialWeights } from '../shared/tasks';
import { concat, evaluateModel, hospitalSplit, splitTrainValidation, trainLocal, type Dataset } from '../shared/training';
import { openDatabase } from '../server/db/client';
import { closeAggregationWorker } from '../server/rounds/runInWorker';
import { startServer } from '../server/testing/harness';
import { figuresOf, runSimulation, type RoundMetrics, type SimulationResult } from '../server/testing/simulation';

const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const hospitals = Number(opt('hospitals') ?? 5);
const rounds = Number(opt('rounds') ?? 20);
const template = heartRisk;
const seed = Number(opt('seed') ?? template.defaults.seed);
const mu = Number(opt('mu') ?? 0.01);
const yogi = JSON.parse(opt('yogi') ?? '{}') as Record<string, unknown>;
const jsonFile = opt('json');
const databaseUrl = opt('database');

tf.enableProdMode();
await tf.setBackend('cpu');

type Figures = ReturnType<typeof figuresOf>;
interface Row {
  model: string;
  figures: Figures;
  note: string;
  seconds: number;
}

const { localEpochs, batchSize, learningRate, validationFraction } = template.defaults;
const epochs = rounds * localEpochs;
const sites = syntheticSites(template.id, hospitals, seed) as Extract<SyntheticSite, { kind: 'tabular' }>[];
const split = (s: (typeof sites)[number], norm: Normalisation | null) => hospitalSplit(template, s.id, s.records, { validationFraction, seed }, norm);

/** Score `weights` on each site's validation split (encoded with `norm`) and pool as the server does. */
async function pooledScore(weights: Float32Array[], norm: Normalisation | null, only?: number): Promise<ClinicalMetrics> {
  const reports: ClinicalMetrics[] = [];
  for (const [k, s] of sites.entries()) {
    if (only !== undefined && k !== only) continue;
    reports.push((await evaluateModel(template.model, weights, split(s, norm).validation)).clinical);
  }
  return poolClinicalMetrics(reports)!;
}

async function train(data: Dataset, label: string) {
  return trainLocal({
    spec: template.model,
    weights: initialWeights(template.model, seed),
    data,
    epochs,
    batchSize,
    learningRate,
    seed: deriveSeed(seed, label),
  });
}

const database = await openDatabase(databaseUrl ? { url: databaseUrl } : {});
const server = await startServer(database);
const runs: SimulationResult[] = [];
const rows: Row[] = [];
const started = performance.now();
try {
  for (const strategy of [{ name: 'fedavg' }, { name: 'fedprox', options: { mu } }, { name: 'fedyogi', options: yogi }] as const) {
    const t0 = performance.now();
    const result = await runSimulation(server, database, { templateId: template.id, hospitals, rounds, seed, strategy });
    runs.push(result);
    const last = result.rounds.at(-1)!;
    const best = result.rounds.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
    const options = Object.entries(result.strategy.options).filter(([k, v]) => v !== null && k !== 'normBound');
    rows.push({
      model: `${strategy.name} (${options.map(([k, v]) => `${k} ${v}`).join(', ') || 'defaults'})`,
      figures: last,
      note: `round ${last.round}; best ${(100 * best.accuracy).toFixed(1)} % at round ${best.round}`,
      seconds: (performance.now() - t0) / 1000,
    });
    console.log(`${strategy.name}: ${result.rounds.map((m) => (100 * m.accuracy).toFixed(1)).join(' ')}`);
  }

  // Central: the pooled training splits, encoded with the study's federated statistics.
  const norm = runs[0].normalisation;
  let t0 = performance.now();
  const central = await train(concat(sites.map((s) => split(s, norm).train)), 'central');
  rows.push({ model: 'central (pooled data)', figures: figuresOf(await pooledScore(central.weights, norm)), note: `${epochs} epochs on ${central.numSamples} records`, seconds: (performance.now() - t0) / 1000 });

  // Each hospital alone: its own statistics, its own split, the same number of epochs.
  t0 = performance.now();
  const ownScores: ClinicalMetrics[] = [];
  const everywhere: Figures[] = [];
  for (const [k, s] of sites.entries()) {
    const { train: idx } = splitTrainValidation(s.records.map((r) => r.label), validationFraction, deriveSeed(seed, s.id));
    const own = combineStatistics(template.features, [siteStatistics(template.features, Array.from(idx, (i) => s.records[i]))]);
    const local = await train(split(s, own).train, `local-${s.id}`);
    ownScores.push(await pooledScore(local.weights, own, k));
    everywhere.push(figuresOf(await pooledScore(local.weights, own)));
  }
  const seconds = (performance.now() - t0) / 1000;
  rows.push({ model: 'each hospital alone, own validation', figures: figuresOf(poolClinicalMetrics(ownScores)!), note: 'each site’s model on its own split, pooled', seconds });
  const mean = (pick: (f: Figures) => number) => everywhere.reduce((a, f) => a + pick(f), 0) / everywhere.length;
  const accs = everywhere.map((f) => f.accuracy);
  rows.push({
    model: 'each hospital alone, all sites',
    figures: { accuracy: mean((f) => f.accuracy), loss: mean((f) => f.loss), auroc: mean((f) => f.auroc ?? 0), ece: mean((f) => f.ece), numSamples: everywhere[0].numSamples, sensitivity: null, specificity: null },
    note: `mean of ${hospitals} site models on every site’s validation (accuracy ${(100 * Math.min(...accs)).toFixed(1)}–${(100 * Math.max(...accs)).toFixed(1)} %)`,
    seconds,
  });
} finally {
  await server.stop();
  await closeAggregationWorker();
  await database.close();
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${(100 * v).toFixed(1)} %`);
const f3 = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(3));
const command = `npm run compare -- --hospitals ${hospitals} --rounds ${rounds} --seed ${seed} --mu ${mu}${opt('yogi') ? ` --yogi '${opt('yogi')}'` : ''}`;
const records = sites.reduce((a, s) => a + s.size, 0);
console.log(
  `\n${template.id}, ${hospitals} hospitals (${records} records), ${rounds} rounds × ${localEpochs} local epochs (${template.model.optimizer}, lr ${learningRate}, batch ${batchSize}), seed ${seed}; ` +
    `pooled validation of ${rows[0].figures.numSamples} records. ${cpus().length} CPUs, Node ${process.version}, TF.js cpu; ${((performance.now() - started) / 1000).toFixed(0)} s in all.\n`,
);
console.log('| model | accuracy | loss | AUROC | sensitivity | specificity | ECE | note |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const r of rows)
  console.log(`| ${r.model} | ${pct(r.figures.accuracy)} | ${f3(r.figures.loss)} | ${f3(r.figures.auroc)} | ${pct(r.figures.sensitivity)} | ${pct(r.figures.specificity)} | ${f3(r.figures.ece)} | ${r.note} |`);
const marks = [0, 1, 2, 5, 10, 15, 20, 30, 50].filter((r) => r <= rounds);
if (!marks.includes(rounds)) marks.push(rounds);
console.log(`\n| pooled accuracy by round | ${marks.join(' | ')} |`);
console.log(`| --- | ${marks.map(() => '---:').join(' | ')} |`);
for (const r of runs) console.log(`| ${r.strategy.name} | ${marks.map((m) => pct(r.rounds.find((x: RoundMetrics) => x.round === m)?.accuracy)).join(' | ')} |`);
console.log(`\ncommand: ${command}`);
if (jsonFile) {
  await writeFile(jsonFile, `${JSON.stringify({ command, rows, runs: runs.map((r) => ({ strategy: r.strategy, rounds: r.rounds })) }, null, 2)}\n`);
  console.log(`wrote ${jsonFile}`);
}
