import { Worker } from 'node:worker_threads';
import type { WeightedUpdate } from '../../shared/fl/fedavg';
import { createStrategy, strategyConfigSchema, type StrategyConfigInput } from '../../shared/fl/registry';
import type { ServerState } from '../../shared/fl/state';
import { StrategyError, type AggregationResult } from '../../shared/fl/strategy';
import { parameterCount } from '../../shared/fl/vectors';
import { packJob, unpackReply, type AggregationReply } from './aggregationJob';

/**
 * Above this many parameters × updates an aggregation leaves the event loop for a worker thread.
 * Measured with scripts/bench-strategies.ts on a busy two-core machine: the slowest rules (median,
 * trimmed mean) take 35–45 M values a second inline, so 2 M values block the loop for about 50 ms
 * at most; a warm worker given the decoded buffers (`handOver`) adds little beyond that.
 */
export const DEFAULT_WORKER_THRESHOLD = 2_000_000;

export interface WorkerRunOptions {
  /** Give up (and replace the worker) after this long. */
  timeoutMs?: number;
  /**
   * Transfer the callers' own tensor buffers instead of copying them: no copy and no fresh memory,
   * but `base` and every delta are detached (length 0) afterwards. For freshly decoded updates.
   */
  handOver?: boolean;
}

interface Pending {
  resolve: (r: AggregationResult) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

/**
 * One long-lived worker thread that runs aggregations in turn. Starting a worker costs about a
 * second (it loads TypeScript through tsx), so it is kept; it does not keep the process alive
 * while idle, and a crashed or timed-out worker is replaced on the next job.
 */
export class AggregationWorker {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private pending = new Map<number, Pending>();
  private nextId = 1;

  /** Start the thread now rather than on the first job (a server may warm it at boot). */
  async warm(): Promise<void> {
    const worker = this.spawn();
    worker.ref();
    try {
      await this.ready;
    } finally {
      if (this.pending.size === 0) worker.unref();
    }
  }

  private spawn(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./aggregationWorker.mjs', import.meta.url));
    this.worker = worker;
    this.ready = new Promise((resolve, reject) => {
      const onReady = (msg: { ready?: boolean }) => {
        if (msg?.ready) {
          worker.off('message', onReady);
          resolve();
        }
      };
      worker.on('message', onReady);
      worker.once('error', reject);
      worker.once('exit', () => reject(new Error('aggregation worker exited before it was ready')));
    });
    this.ready.catch(() => undefined);
    worker.on('message', (reply: AggregationReply | { ready: true }) => {
      if ('ready' in reply) return;
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.settle(reply.id);
      if (reply.ok) p.resolve(unpackReply(reply));
      else p.reject(reply.error.code ? new StrategyError(reply.error.code, reply.error.message) : new Error(reply.error.message));
    });
    worker.on('error', (err) => this.discard(worker, err));
    worker.on('exit', (code) => this.discard(worker, new Error(`aggregation worker exited with code ${code}`)));
    worker.unref();
    return worker;
  }

  /** Forget a worker that failed or overran; every job still on it is refused with `err`. */
  private discard(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.ready = null;
    for (const [id, p] of [...this.pending]) {
      this.settle(id);
      p.reject(err);
    }
    void worker.terminate();
  }

  private settle(id: number): void {
    clearTimeout(this.pending.get(id)?.timer);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
  }

  run(
    config: StrategyConfigInput,
    base: readonly Float32Array[],
    updates: readonly WeightedUpdate[],
    state: ServerState | null = null,
    options: WorkerRunOptions = {},
  ): Promise<AggregationResult> {
    let packed;
    try {
      packed = packJob(this.nextId++, strategyConfigSchema.parse(config), base, updates, state, options.handOver);
    } catch (err) {
      return Promise.reject(err);
    }
    const { job, transfer } = packed;
    const worker = this.spawn();
    worker.ref();
    return new Promise<AggregationResult>((resolve, reject) => {
      const p: Pending = { resolve, reject };
      if (options.timeoutMs !== undefined)
        p.timer = setTimeout(() => {
          // A rule that overruns holds the thread: end it, and the next job gets a fresh one.
          this.settle(job.id);
          reject(new Error(`aggregation did not finish within ${options.timeoutMs} ms`));
          this.discard(worker, new Error('aggregation worker was ended after another job timed out'));
        }, options.timeoutMs);
      this.pending.set(job.id, p);
      worker.postMessage(job, transfer);
    });
  }

  /** End the thread; jobs still running on it are refused. */
  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.discard(w, new Error('aggregation worker was closed'));
    await w.terminate();
  }
}

let shared: AggregationWorker | null = null;

/** The process's shared aggregation worker (created on first use). */
export function aggregationWorker(): AggregationWorker {
  shared ??= new AggregationWorker();
  return shared;
}

/** End the shared worker (tests, shutdown); the next job starts a new one. */
export async function closeAggregationWorker(): Promise<void> {
  const w = shared;
  shared = null;
  await w?.close();
}

/**
 * Run a strategy in a worker thread. The inputs are copied into transferable buffers, so the
 * caller's arrays stay usable; the result is bit-identical to `createStrategy(config).aggregate`.
 */
export function runInWorker(
  config: StrategyConfigInput,
  base: readonly Float32Array[],
  updates: readonly WeightedUpdate[],
  state: ServerState | null = null,
  options: WorkerRunOptions & { worker?: AggregationWorker } = {},
): Promise<AggregationResult> {
  return (options.worker ?? aggregationWorker()).run(config, base, updates, state, options);
}

export interface RunStrategyOptions extends WorkerRunOptions {
  /** Parameters × updates from which the work goes to a worker thread. */
  workerThreshold?: number;
  worker?: AggregationWorker;
}

/** What the coordinator calls: inline for small rounds, in the worker thread for large ones. */
export async function runStrategy(
  config: StrategyConfigInput,
  base: readonly Float32Array[],
  updates: readonly WeightedUpdate[],
  state: ServerState | null = null,
  options: RunStrategyOptions = {},
): Promise<AggregationResult & { ranIn: 'inline' | 'worker' }> {
  const threshold = options.workerThreshold ?? DEFAULT_WORKER_THRESHOLD;
  if (parameterCount(base) * updates.length < threshold) return { ...createStrategy(config).aggregate(base, updates, state), ranIn: 'inline' };
  return { ...(await runInWorker(config, base, updates, state, options)), ranIn: 'worker' };
}
