/**
 * Time of every aggregation strategy, inline and in the worker thread, for a ~100 k and a ~1 M
 * parameter model with 10 clients. `npm run bench:strategies [-- --repeat N --clients N]`.
 * Each figure is the median of N runs (default 3) after one warm-up. "worker, copy" includes
 * copying the inputs into transferable buffers (the caller keeps its arrays); "worker, hand-over"
 * transfers the callers' own buffers (what the coordinator does with freshly decoded updates).
 * Neither includes the one-off start of the thread, printed apart. "fresh copy" is a plain copy of
 * every update into newly allocated memory: the floor under the copying worker path.
 */
import { performance } from 'node:perf_hooks';
import { cpus } from 'node:os';
import type { WeightedUpdate } from '../shared/fl/fedavg';
import { createStrategy } from '../shared/fl/registry';
import type { ServerState } from '../shared/fl/state';
import { strategyNames } from '../shared/fl/strategy';
import { AggregationWorker, DEFAULT_WORKER_THRESHOLD } from '../server/rounds/runInWorker';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const repeat = arg('repeat', 3);
const clients = arg('clients', 10);

const models: { label: string; shapes: number[] }[] = [
  { label: '~100k', shapes: [256 * 384, 384, 384 * 4, 4] }, // 100,228
  { label: '~1M', shapes: [1000 * 1000, 1000, 1000 * 10, 10] }, // 1,011,010
];

/** Deterministic pseudo-random deltas (a cheap LCG: the bench measures aggregation, not generation). */
function makeRound(shapes: number[], n: number): { base: Float32Array[]; updates: WeightedUpdate[] } {
  let s = 12345;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296 - 0.5) * 0.02;
  const base = shapes.map((len) => Float32Array.from({ length: len }, next));
  const updates = Array.from({ length: n }, (_, i) => ({
    participantId: `site-${String(i).padStart(2, '0')}`,
    numSamples: 100 + 37 * i,
    delta: shapes.map((len) => Float32Array.from({ length: len }, next)),
  }));
  return { base, updates };
}

const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function time<T>(fn: (input: T) => unknown, setup: () => T = () => undefined as T): Promise<number> {
  await fn(setup()); // warm-up
  const runs: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const input = setup();
    const t0 = performance.now();
    await fn(input);
    runs.push(performance.now() - t0);
  }
  return medianOf(runs);
}

const cloneRound = (base: Float32Array[], updates: WeightedUpdate[]) => ({
  base: base.map((t) => t.slice()),
  updates: updates.map((u) => ({ ...u, delta: u.delta.map((t) => t.slice()) })),
});

const worker = new AggregationWorker();
const t0 = performance.now();
await worker.warm();
const startMs = performance.now() - t0;

console.log(`Consilium aggregation strategies: ${clients} clients, median of ${repeat} runs, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
console.log(`worker thread start (tsx loading the rules): ${startMs.toFixed(0)} ms, once per process`);
console.log(`runStrategy goes to the worker from ${DEFAULT_WORKER_THRESHOLD.toLocaleString('en')} parameters × updates\n`);

const rows: string[][] = [];
for (const m of models) {
  const { base, updates } = makeRound(m.shapes, clients);
  const params = m.shapes.reduce((a, b) => a + b, 0);
  const fresh = await time(() => {
    const out = new Float32Array(params * clients);
    let off = 0;
    for (const u of updates)
      for (const t of u.delta) {
        out.set(t, off);
        off += t.length;
      }
    return out;
  });
  rows.push([m.label, params.toLocaleString('en'), '(fresh copy)', fresh.toFixed(1), '', '', ((params * clients) / (fresh / 1000) / 1e6).toFixed(0)]);
  for (const name of strategyNames) {
    const strategy = createStrategy({ name });
    // Adaptive rules and FedAvgM read last round's state: give them one, as in a running study.
    const state: ServerState | null = strategy.aggregate(base, updates, null).state;
    const inline = await time(() => strategy.aggregate(base, updates, state));
    const copied = await time(() => worker.run({ name }, base, updates, state));
    const handedOver = await time(
      (r) => worker.run({ name }, r.base, r.updates, state, { handOver: true }),
      () => cloneRound(base, updates),
    );
    const throughput = (params * clients) / (inline / 1000) / 1e6;
    rows.push([m.label, params.toLocaleString('en'), name, inline.toFixed(1), copied.toFixed(1), handedOver.toFixed(1), throughput.toFixed(0)]);
  }
}
await worker.close();

const header = ['model', 'parameters', 'strategy', 'inline ms', 'worker, copy ms', 'worker, hand-over ms', 'inline M values/s'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r: string[]) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
