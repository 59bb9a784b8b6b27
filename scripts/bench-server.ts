/**
 * The server's aggregation speed and memory: `npm run bench:server [-- --repeat N --sizes 1000000,10000000 --updates 10,50 --only throughput|memory]`.
 *
 * Throughput, in this process on one core (inline, no worker thread): for each model size and number
 * of updates, values per second (parameters × updates / time) of
 *   - a plain copy: each update's values `set` into one model-sized Float32Array (the floor: memory
 *     traffic only);
 *   - FedAvg's accumulate alone (Σ wᵢ·Δᵢ in float64: the headline figure, target ≥ 500 M values/s),
 *     over updates in memory (`weightedMeanDelta`) and fed one by one as the coordinator streams them
 *     (the accumulator holds up to four and sums them in one pass; each update's norm is taken in the
 *     report's pass, next to its distance); at least three runs after a warm-up at every size;
 *   - the whole FedAvg, median, trimmed-mean and Krum strategies (checks, norms, the rule, and the
 *     per-update report with its norm and distance to the aggregate).
 * A summary after the table checks the targets: the accumulate ≥ 500 M values/s of CPU time, the
 * robust rules ≤ 10× the whole FedAvg strategy's CPU time.
 * Wall time is the median of --repeat runs (default 5 for ≤ 1 M parameters, 1 above), CPU time
 * (user + system of this process) the least of them: on a shared, loaded machine the best estimate
 * of what one undisturbed core does. Ratios: CPU time against the FedAvg strategy's, and against the
 * plain copy's.
 *
 * Memory, each case in a fresh child process, peak RSS (VmHWM) and peak ArrayBuffer bytes
 * (process.memoryUsage, sampled every 20 ms and between steps) above the child's baseline:
 *   - "coordinator before (all held)": what server/rounds/coordinator.ts did before streaming: every
 *     payload of the round held at once (as one SELECT of the round's rows returns them), all decoded
 *     into copies, then `runStrategy('fedavg', …, { handOver: true })` (a worker thread above 2 M values);
 *   - "coordinator now (streaming)": what server/rounds/aggregation.ts does for the mean-based rules:
 *     `strategy.stream`, each payload fetched, decoded in place, added (held until four are waiting)
 *     and dropped, then fetched again and measured for the report the same way. A fetch is simulated by encoding the update afresh (not timed).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { weightedMeanDelta, type WeightedUpdate } from '../shared/fl/fedavg';
import { WeightedMeanAccumulator } from '../shared/fl/meanAccumulator';
import { createStrategy } from '../shared/fl/registry';
import { decodeWeights, encodeWeights } from '../shared/weights/codec';
import { fill } from './benchData';
import { aggregationWorker, closeAggregationWorker, runStrategy } from '../server/rounds/runInWorker';

const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const MiB = 2 ** 20;

/** A dense layer's layout, about `params` values in all: kernel, bias, a small head. */
function layout(params: number): number[] {
  const head = 1010;
  return [params - head - 1000, 1000, 1000, 10];
}


const makeTensors = (shapes: number[], seed: number) => shapes.map((n, k) => fill(new Float32Array(n), seed * 31 + k));
const updateOf = (shapes: number[], i: number): WeightedUpdate => ({
  participantId: `site-${String(i).padStart(3, '0')}`,
  numSamples: 100 + 37 * i,
  delta: makeTensors(shapes, 1000 + i),
});

const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

interface Timing {
  /** Wall-clock milliseconds. */
  wall: number;
  /** CPU milliseconds this process spent (user + system), least of the runs: on a loaded machine, the closer measure of one core's work. */
  cpu: number;
}

/** Median of `repeat` runs after a warm-up (skipped when `warm` is false: big cases, JIT already warm). */
function time(fn: () => unknown, repeat: number, warm = true): Timing {
  if (warm) fn();
  const runs: Timing[] = [];
  for (let r = 0; r < repeat; r++) {
    gc();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    runs.push({ wall, cpu: (c.user + c.system) / 1000 });
  }
  // Wall: the median run. CPU: the least, the run other processes disturbed least.
  return { wall: medianOf(runs.map((r) => r.wall)), cpu: Math.min(...runs.map((r) => r.cpu)) };
}

function encodeUpdate(u: WeightedUpdate): Uint8Array {
  return encodeWeights({ kind: 'update', meta: { numSamples: u.numSamples }, tensors: u.delta.map((data) => ({ shape: [data.length], data })) });
}

// ---------------------------------------------------------------- memory, in a child process

interface MemoryCase {
  mode: 'before' | 'streaming';
  params: number;
  updates: number;
}
interface MemoryResult extends MemoryCase {
  baselineRssMiB: number;
  peakRssMiB: number;
  peakArrayBuffersMiB: number;
  decodeMs: number;
  aggregateMs: number;
  ranIn: string;
}

async function memoryChild(c: MemoryCase): Promise<MemoryResult> {
  const shapes = layout(c.params);
  // Payloads are made from one reused scratch update, so generating them leaves no garbage behind.
  const scratch = updateOf(shapes, 0);
  const payloadOf = (i: number) => {
    for (const [k, t] of scratch.delta.entries()) fill(t, 7000 + 31 * i + k);
    return encodeUpdate({ ...scratch, participantId: `site-${String(i).padStart(3, '0')}`, numSamples: 100 + 37 * i });
  };
  const base = makeTensors(shapes, 1);
  // A running server's worker thread is already up after its first large round: start it before measuring.
  if (c.mode === 'before') await aggregationWorker().warm();
  gc();
  const baseline = process.memoryUsage();
  let peakAb = baseline.arrayBuffers;
  const sample = () => (peakAb = Math.max(peakAb, process.memoryUsage().arrayBuffers));
  const sampler = setInterval(sample, 20);
  let decodeMs = 0;
  let aggregateMs = 0;
  let ranIn = 'inline';
  const samples = Array.from({ length: c.updates }, (_, i) => 100 + 37 * i);
  const total = samples.reduce((a, b) => a + b, 0);
  if (c.mode === 'before') {
    const payloads: Uint8Array[] = [];
    for (let i = 0; i < c.updates; i++) payloads.push(payloadOf(i));
    sample();
    let t0 = performance.now();
    const updates = payloads.map((p, i) => ({
      participantId: `site-${String(i).padStart(3, '0')}`,
      numSamples: samples[i],
      delta: decodeWeights(p, { copy: true }).tensors.map((t) => t.data),
    }));
    decodeMs = performance.now() - t0;
    sample();
    t0 = performance.now();
    const result = await runStrategy({ name: 'fedavg' }, base, updates, null, { handOver: true });
    aggregateMs = performance.now() - t0;
    ranIn = result.ranIn;
    sample();
    payloads.length = 0;
  } else {
    const participants = samples.map((numSamples, i) => ({ participantId: `site-${String(i).padStart(3, '0')}`, numSamples }));
    const stream = createStrategy({ name: 'fedavg' }).stream!(base, participants, null);
    for (const pass of ['add', 'measure'] as const)
      for (const i of stream.order) {
        const payload = payloadOf(i); // one row fetched
        let t0 = performance.now();
        const delta = decodeWeights(payload).tensors.map((t) => t.data);
        decodeMs += performance.now() - t0;
        t0 = performance.now();
        stream[pass](delta);
        aggregateMs += performance.now() - t0;
        sample();
      }
    const t0 = performance.now();
    const next = stream.finish();
    aggregateMs += performance.now() - t0;
    sample();
    if (next.weights.length !== base.length) throw new Error('unreachable');
  }
  clearInterval(sampler);
  await closeAggregationWorker();
  const peakRss = highWaterRss();
  return {
    ...c,
    baselineRssMiB: baseline.rss / MiB,
    peakRssMiB: (peakRss - baseline.rss) / MiB,
    peakArrayBuffersMiB: (peakAb - baseline.arrayBuffers) / MiB,
    decodeMs,
    aggregateMs,
    ranIn,
  };
}

/**
 * This process's peak RSS: VmHWM from /proc (getrusage's maxRSS would not do: Linux carries it over
 * exec from the parent, which here held gigabytes of updates).
 */
function highWaterRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

function runMemoryCase(c: MemoryCase): MemoryResult {
  const script = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, '--memory-case', JSON.stringify(c)], {
    encoding: 'utf8',
    maxBuffer: 16 * MiB,
  });
  if (child.status !== 0) throw new Error(`memory case ${JSON.stringify(c)} failed (${child.status ?? child.signal}):\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as MemoryResult;
}

// ---------------------------------------------------------------- main

async function main() {
  const sizes = (opt('sizes') ?? '1000000,10000000').split(',').map(Number);
  const counts = (opt('updates') ?? '10,50').split(',').map(Number);
  const repeatFor = (params: number) => Number(opt('repeat') ?? (params <= 1_000_000 ? 5 : 1));
  const load = loadavg()[0];
  console.log(
    `Consilium server aggregation: ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load ${load.toFixed(1)}, Node ${process.version}`,
  );
  console.log('values/s = parameters × updates / time, inline on one thread; wall = median run; CPU = user + system time of the least disturbed run; cost = CPU time / FedAvg strategy CPU time\n');

  // The coordinator's streaming FedAvg gives the in-memory strategy's result exactly (checked on 1 M × 10).
  {
    const shapes = layout(1_000_000);
    const base = makeTensors(shapes, 1);
    const updates = Array.from({ length: 10 }, (_, i) => updateOf(shapes, i));
    const strategy = createStrategy({ name: 'fedavg' });
    const stream = strategy.stream!(base, updates, null);
    for (const i of stream.order) stream.add(updates[i].delta);
    for (const i of stream.order) stream.measure(updates[i].delta);
    const streamed = stream.finish();
    const reference = strategy.aggregate(base, updates);
    const same =
      reference.weights.every((r, t) => r.every((v, i) => Object.is(v, streamed.weights[t][i]))) &&
      JSON.stringify(reference.report) === JSON.stringify(streamed.report);
    if (!same) throw new Error('streaming FedAvg does not reproduce the in-memory strategy bit for bit');
    console.log('streaming FedAvg (one update at a time) = in-memory FedAvg strategy, weights and report bit for bit (1 M × 10): yes\n');
  }

  const only = opt('only');
  if (only !== 'memory') throughput(sizes, counts, repeatFor);
  if (only !== 'throughput' && !argv.includes('--skip-memory')) memory(sizes, counts);
}

function throughput(sizes: number[], counts: number[], repeatFor: (params: number) => number) {
  const header = ['parameters', 'updates', 'what', 'wall ms', 'CPU ms', 'M values/s (CPU)', 'M values/s (wall)', 'cost vs FedAvg (CPU)', 'cost vs copy (CPU)'];
  const rows: string[][] = [];
  const summary: string[] = [];
  let warmed = false;
  for (const params of sizes) {
    const shapes = layout(params);
    const base = makeTensors(shapes, 1);
    const all = Array.from({ length: Math.max(...counts) }, (_, i) => updateOf(shapes, i));
    const repeat = repeatFor(params);
    // Large cases run once without a warm-up when a smaller case already warmed the JIT.
    const warm = !warmed || repeat > 1;
    warmed = true;
    for (const n of counts) {
      const updates = all.slice(0, n);
      const values = params * n;
      const rate = (ms: number) => (values / (ms / 1000) / 1e6).toFixed(0);
      let copy: Timing | undefined;
      const line = (what: string, t: Timing, fedavg?: Timing) =>
        rows.push([
          params.toLocaleString('en'),
          String(n),
          what,
          t.wall.toFixed(0),
          t.cpu.toFixed(0),
          rate(t.cpu),
          rate(t.wall),
          fedavg ? `${(t.cpu / fedavg.cpu).toFixed(1)}×` : '',
          copy && t !== copy ? `${(t.cpu / copy.cpu).toFixed(1)}×` : '',
        ]);
      // Touched once beforehand, so the copy measures copying, not first-touch page faults.
      const target = new Float32Array(params).fill(1);
      copy = time(() => {
        for (const u of updates) {
          let off = 0;
          for (const t of u.delta) {
            target.set(t, off);
            off += t.length;
          }
        }
      }, repeat, warm);
      line('plain copy (set)', copy);
      // The headline figures, cheap enough to take with a warm-up and at least three runs at every size.
      const inMemory = time(() => weightedMeanDelta(base, updates), Math.max(repeat, 3));
      line('FedAvg accumulate, in memory (weightedMeanDelta)', inMemory);
      const total = updates.reduce((s, u) => s + u.numSamples, 0);
      const streamed = time(() => {
        const acc = new WeightedMeanAccumulator(shapes, total);
        for (const u of updates) acc.add(u.numSamples, u.delta);
        return acc.sum;
      }, Math.max(repeat, 3));
      line('FedAvg accumulate, fed one by one (coordinator)', streamed);
      const fedavg = time(() => createStrategy({ name: 'fedavg' }).aggregate(base, updates), repeat, warm);
      line('FedAvg strategy (with report)', fedavg, fedavg);
      const costs: string[] = [];
      for (const config of [{ name: 'median' }, { name: 'trimmed-mean' }, { name: 'krum' }] as const) {
        const strategy = createStrategy(config);
        const t = time(() => strategy.aggregate(base, updates), repeat, warm);
        line(`${config.name} strategy`, t, fedavg);
        const cost = t.cpu / fedavg.cpu;
        costs.push(`${config.name} ${cost.toFixed(1)}× ${cost <= 10 ? 'ok' : 'OVER'}`);
      }
      const ok = (t: Timing) => (values / (t.cpu / 1000) >= 500e6 ? 'ok' : 'UNDER');
      summary.push(
        `${params.toLocaleString('en')} × ${n}: FedAvg accumulate ${rate(inMemory.cpu)} M/s in memory (${ok(inMemory)}), ${rate(streamed.cpu)} M/s fed one by one (${ok(streamed)}); whole strategy ${rate(fedavg.cpu)} M/s; robust vs FedAvg: ${costs.join(', ')}`,
      );
      console.error(`  done: ${params.toLocaleString('en')} × ${n}`);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const print = (r: string[]) => console.log(`| ${r.map((c, i) => (i === 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`);
  print(header);
  console.log(`| ${widths.map((w, i) => (i === 2 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`);
  rows.forEach(print);
  console.log('\nTargets (CPU time): FedAvg accumulate ≥ 500 M values/s; median, trimmed mean, Krum ≤ 10× the FedAvg strategy');
  for (const l of summary) console.log(`  ${l}`);
}

function memory(sizes: number[], counts: number[]) {
  console.log('\nPeak memory of one FedAvg aggregation, above the process baseline (fresh child process per case):\n');
  const mem: MemoryResult[] = [];
  for (const params of sizes)
    for (const n of counts)
      for (const mode of ['before', 'streaming'] as const) {
        mem.push(runMemoryCase({ mode, params, updates: n }));
        console.error(`  done: memory ${mode} ${params} × ${n}`);
      }
  const mh = ['parameters', 'updates', 'path', 'peak RSS MiB', 'peak ArrayBuffers MiB', 'decode ms', 'aggregate ms', 'ran in'];
  const mrows = mem.map((m) => [
    m.params.toLocaleString('en'),
    String(m.updates),
    m.mode === 'before' ? 'coordinator before (all held)' : 'coordinator now (streaming)',
    m.peakRssMiB.toFixed(0),
    m.peakArrayBuffersMiB.toFixed(0),
    m.decodeMs.toFixed(0),
    m.aggregateMs.toFixed(0),
    m.ranIn,
  ]);
  const mw = mh.map((h, i) => Math.max(h.length, ...mrows.map((r) => r[i].length)));
  const mprint = (r: string[]) => console.log(`| ${r.map((c, i) => (i === 2 || i === 7 ? c.padEnd(mw[i]) : c.padStart(mw[i]))).join(' | ')} |`);
  mprint(mh);
  console.log(`| ${mw.map((w, i) => (i === 2 || i === 7 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`);
  mrows.forEach(mprint);
  // What one more update costs, from the smallest to the largest count.
  const lo = Math.min(...counts);
  const hi = Math.max(...counts);
  if (hi > lo) {
    console.log('');
    for (const params of sizes)
      for (const mode of ['before', 'streaming'] as const) {
        const a = mem.find((m) => m.params === params && m.mode === mode && m.updates === lo)!;
        const b = mem.find((m) => m.params === params && m.mode === mode && m.updates === hi)!;
        const perUpdate = (b.peakRssMiB - a.peakRssMiB) / (hi - lo);
        console.log(`${params.toLocaleString('en')} parameters, ${mode}: +${perUpdate.toFixed(1)} MiB peak RSS per extra update (the model is ${((4 * params) / MiB).toFixed(1)} MiB)`);
      }
  }
  console.log(`\nchild baseline RSS ${mem[0].baselineRssMiB.toFixed(0)} MiB (Node, tsx, the server's modules); model size ${sizes.map((p) => `${((4 * p) / MiB).toFixed(0)} MiB`).join(' / ')} as float32`);
}

const memoryCase = opt('memory-case');
if (memoryCase) {
  const result = await memoryChild(JSON.parse(memoryCase) as MemoryCase);
  console.log(JSON.stringify(result));
} else {
  await main();
}
