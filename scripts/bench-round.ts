/**
 * One whole round through the real server: `npm run bench:round -- --params P --clients N
 * [--database URL] [--strategy S] [--runs 3]` (or a long study of R rounds on one server: `--rounds R`, below).
 *
 * Each run starts `node --import tsx server/main.ts` as a child process on a fresh data folder
 * (embedded PGlite; with --database, a fresh database made in that PostgreSQL and dropped after) with
 * `BENCH_STUDY=params:P,sites:N,strategy:S` (bench-only, see server/config.ts): one study of a dense
 * model of about P float32 parameters, N enrolled sites, all sampled, all needed, a one-hour deadline.
 * The server writes the sites' link tokens to bench-study.json in its data folder.
 *
 * N simulated sites in this process join over Socket.IO (websocket only) and send their aggregate
 * statistics; once every one has round 1's `round:open`, the server's idle RSS is read and its peak
 * reset (`5 > /proc/PID/clear_refs`), then all N uploads start together (pre-encoded; node:http with
 * an agent without a socket limit, one connection each). Figures:
 *   intake_per_s   accepted uploads / (last ack − first send)
 *   overhead_ms    last accepted ack → the first client's `round:closed` (negative when the server
 *                  announces the close before it answers the last upload)
 *   idle_rss_mib   the server's VmRSS with the round open and no upload yet
 *   peak_rss_mib   the server's VmHWM from the uploads to `round:closed`
 *   accumulate_vs_numpy  numpy's time over the server's accumulate's for N updates of the study's
 *                  layout (numpy `acc += w * d`, acc float64, d float32), medians of 3 alternating
 *                  tries after each run's server stopped; > 1: ours is faster; `na` without numpy.
 * Every figure is the median over --runs fresh servers; the last line sums them up.
 *
 * `--rounds R` (R > 1): the long study, to show that disk and memory stay flat over many rounds. One
 * server (--runs does not apply) with `BENCH_STUDY=…,rounds:R` and `KEEP_UPDATE_ROUNDS=0` runs a
 * study of R rounds: for each round r every site waits for round r's `round:open` (the server opens it
 * right after round r−1's close), all N upload together (meta round r, baseVersion r−1, fresh values
 * and idempotency keys each round), and every site waits for round r's `round:closed`. A round's
 * uploads start no sooner than the server's upload limit allows (server/http/rateLimit.ts: 30 per
 * site a minute, so one each 2 s, plus half a second of margin) after the last round's. A second later
 * the server's VmRSS, the bytes under DATA_DIR/blobs (each model version; the round's update payloads
 * are deleted once its version is written) and under the whole DATA_DIR are read: one line a round,
 * then a summary, its last line
 *   bench:round:rounds params=P clients=N strategy=S rounds=R rss_round1_mib=A rss_last_mib=B
 *     rss_max_mib=C blobs_round1_mib=D blobs_last_mib=E version_mib=F
 * where version_mib is the size of one model version file, computed from the model (its P float32
 * values and the codec's header, encoded as the server encodes a version): blobs grow by about one
 * version a round when every round's payloads go. No accumulate comparison in this mode.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { io as connect, type Socket } from 'socket.io-client';
import { startConsilium, type ConsiliumServer } from '../e2e/support/server';
import type { ClientToServerEvents, ServerToClientEvents } from '../shared/protocol/events';
import type { RoundClosed, RoundOpen, UploadReceipt } from '../shared/protocol/schemas';
import { denseBenchTemplate, weightShapes } from '../shared/tasks';
import { encodeWeights } from '../shared/weights/codec';
import { fill } from './benchData';
import { BENCH_STUDY_FILE, type BenchStudyFile } from '../server/demo/benchStudy';
import { defaultRateLimits } from '../server/http/rateLimit';

// ---------------------------------------------------------------- the server's accumulate, one seam

/**
 * What a round without a norm bound sums at: scaleBitsFor(MAX_UPDATE_SAMPLES = 1e8,
 * DEFAULT_VALUE_BOUND = 1024) in shared/fl/bounds.ts.
 */
const FIXED_POINT_SCALE_BITS = 23;

interface ServerAccumulate {
  name: string;
  /** Folds every update in, weighted by its sample count, as the server's round sum does. */
  run(lengths: number[], samples: readonly number[], deltaOf: (k: number) => readonly Float32Array[]): void;
  /** The same with the updates already where the fold reads them (the server reads a payload straight into the sum's memory). */
  runStaged?(lengths: number[], samples: readonly number[], distinct: readonly (readonly Float32Array[])[]): void;
}

/**
 * The server's accumulator: shared/fl/fixedPoint.ts `FixedPointSum` (exact fixed-point sum, weight =
 * sample count).
 */
async function serverAccumulate(): Promise<ServerAccumulate> {
  const fixedPoint = new URL('../shared/fl/fixedPoint.ts', import.meta.url);
  if (fs.existsSync(fileURLToPath(fixedPoint))) {
    type FixedPointSum = {
      add(weight: number, delta: readonly Float32Array[]): void;
      multiplier(weight: number): number;
      addRange(multiplier: number, offset: number, values: Float32Array, maxAbs?: number): void;
      countUpdate(): void;
      staging(): Float32Array | null;
      readonly simd: boolean;
    };
    const { FixedPointSum } = (await import(fixedPoint.href)) as {
      FixedPointSum: new (lengths: number[], scaleBits: number, options?: { stagingValues?: number }) => FixedPointSum;
    };
    // One sum for the staged runs, its staging area holding every distinct update (copied in once, untimed).
    let staged: { sum: FixedPointSum; views: Float32Array[]; norms: number[] } | null = null;
    return {
      name: `FixedPointSum (${new FixedPointSum([4], FIXED_POINT_SCALE_BITS).simd ? 'WebAssembly SIMD' : 'JavaScript'})`,
      run(lengths, samples, deltaOf) {
        const acc = new FixedPointSum(lengths, FIXED_POINT_SCALE_BITS);
        samples.forEach((n, k) => acc.add(n, deltaOf(k)));
      },
      runStaged(lengths, samples, distinct) {
        const total = lengths.reduce((a, b) => a + b, 0);
        if (!staged) {
          const sum = new FixedPointSum(lengths, FIXED_POINT_SCALE_BITS, { stagingValues: distinct.length * total });
          const stage = sum.staging();
          if (!stage) throw new Error('no staging area without SIMD');
          const views = distinct.map((d, u) => {
            const v = stage.subarray(u * total, (u + 1) * total);
            let off = 0;
            for (const t of d) {
              v.set(t, off);
              off += t.length;
            }
            return v;
          });
          // Each update's norm, which the server has from intake and gives the fold as a bound on its values.
          const norms = views.map((v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0)));
          staged = { sum, views, norms };
        }
        const { sum, views, norms } = staged;
        samples.forEach((n, k) => {
          sum.addRange(sum.multiplier(n), 0, views[k % views.length], norms[k % views.length]);
          sum.countUpdate();
        });
      },
    };
  }
  throw new Error('shared/fl/fixedPoint.ts, the server\'s accumulator, is missing');
}

// ---------------------------------------------------------------- arguments

const { values: args } = parseArgs({
  options: {
    params: { type: 'string' },
    clients: { type: 'string' },
    database: { type: 'string' },
    strategy: { type: 'string', default: 'fedavg' },
    runs: { type: 'string' },
    rounds: { type: 'string', default: '1' },
  },
  strict: true,
});

function wholeArg(name: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `from ${min}` : `from ${min} to ${max}`;
    process.stderr.write(
      `bench:round: --${name} must be a whole number ${range} (usage: npm run bench:round -- --params P --clients N [--database URL] [--strategy S] [--runs 3] [--rounds R])\n`,
    );
    process.exit(2);
  }
  return n;
}
const wantedParams = wholeArg('params', args.params, 4);
const clients = wholeArg('clients', args.clients, 1);
const runs = wholeArg('runs', args.runs ?? '3', 1);
/** Rounds of the long study (`--rounds`); 1 is the usual one-round bench. */
const studyRounds = wholeArg('rounds', args.rounds, 1, 1000);
const strategy = args.strategy!;
const adminDatabaseUrl = args.database;
if (adminDatabaseUrl && !/^postgres(ql)?:\/\/./.test(adminDatabaseUrl)) {
  process.stderr.write('bench:round: --database must be a postgres:// or postgresql:// URL\n');
  process.exit(2);
}

const template = denseBenchTemplate(wantedParams);
const shapes = weightShapes(template.model).map((w) => w.shape);
const lengths = shapes.map((s) => s.reduce((a, b) => a * b, 1));
const params = lengths.reduce((a, b) => a + b, 0);
const features = template.features.map((f) => f.name);
/** Samples each site declares: 50 to 500, varied. */
const samples = Array.from({ length: clients }, (_, k) => 50 + ((k * 173) % 451));

// ---------------------------------------------------------------- small helpers

const MiB = 2 ** 20;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const dec = (x: number, digits: number) => x.toFixed(digits);
const loadLine = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${(ms / 1000).toFixed(0)} s: ${what}`)), ms);
    }),
  ]);
}

/** VmRSS or VmHWM of a process, in MiB. */
function procMemory(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}


// ---------------------------------------------------------------- cleanup on any exit

/**
 * Every data folder of this bench lies in one folder of its own (startConsilium makes its folder in
 * os.tmpdir(), which follows TMPDIR), so an exit at any moment, a server mid-start included, leaves none.
 */
const benchTmp = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-bench-'));
process.env.TMPDIR = benchTmp;

let liveServer: ConsiliumServer | null = null;
let liveDatabase: { drop(): Promise<void> } | null = null;
let numpyChild: ChildProcessWithoutNullStreams | null = null;

/** This process's own child processes (a server still starting has no handle yet), by /proc. */
function ownChildren(): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces, so read after its closing parenthesis.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

process.on('exit', () => {
  // Last resort (an uncaught error, a signal, process.exit): no async work runs here.
  for (const pid of ownChildren()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  fs.rmSync(benchTmp, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    process.stderr.write(`\nbench:round: ${signal}, stopping the server\n`);
    numpyChild?.kill('SIGKILL');
    void Promise.allSettled([liveServer?.stop(), liveDatabase?.drop()]).then(() => process.exit(130));
  });

// ---------------------------------------------------------------- PostgreSQL

async function freshDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `consilium_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = () => postgres(adminUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  const a = admin();
  try {
    await withTimeout(a.unsafe(`CREATE DATABASE ${name}`), 30_000, `creating database ${name}`);
  } finally {
    await a.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const b = admin();
      try {
        await withTimeout(b.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`), 30_000, `dropping database ${name}`);
      } finally {
        await b.end();
      }
    },
  };
}

// ---------------------------------------------------------------- the sites

type SiteSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * Each site's update for `round` from `baseVersion` (round 1 from version 0: encoded once for every
 * run); each round's values differ.
 */
function encodeUpdates(studyId: string, round = 1, baseVersion = 0): Uint8Array[] {
  const scratch = lengths.map((n) => new Float32Array(n));
  return samples.map((numSamples, k) => {
    scratch.forEach((t, i) => fill(t, 1 + 7919 * k + 31 * i + 104_729 * (round - 1)));
    const meta = { studyId, round, baseVersion, numSamples, backend: 'cpu' };
    return encodeWeights({ kind: 'update', meta, tensors: scratch.map((data, i) => ({ shape: shapes[i], data })) });
  });
}

/** Aggregate statistics of `rows` records: per feature a mean near 0, a variance of 1 (never a row). */
function statisticsOf(k: number, rows: number) {
  const numeric = Object.fromEntries(
    features.map((name, i) => {
      const mean = Math.sin(k + 3 * i) * 0.5;
      return [name, { count: rows, sum: rows * mean, sumSquares: rows * (1 + mean * mean) }];
    }),
  );
  return { rows, numeric, categorical: {} };
}

interface Upload {
  status: number;
  ackAt: number;
  receipt?: UploadReceipt;
  error?: string;
}

function upload(agent: http.Agent, url: string, studyId: string, token: string, key: string, body: Uint8Array, timeoutMs: number, round = 1): Promise<Upload> {
  return new Promise((resolve) => {
    const req = http.request(
      `${url}/api/studies/${studyId}/rounds/${round}/updates`,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/octet-stream',
          'content-length': body.byteLength,
          'idempotency-key': key,
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const ackAt = performance.now();
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            const json = JSON.parse(text) as UploadReceipt & { error?: { code: string; message: string } };
            resolve(json.error ? { status: res.statusCode!, ackAt, error: `${json.error.code}: ${json.error.message}` } : { status: res.statusCode!, ackAt, receipt: json });
          } catch {
            resolve({ status: res.statusCode!, ackAt, error: text.slice(0, 200) });
          }
        });
        res.on('error', (err) => resolve({ status: 0, ackAt: performance.now(), error: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ status: 0, ackAt: performance.now(), error: err.message }));
    req.end(body);
  });
}

/** Connects a site's socket and joins the study (the server must still want its statistics). */
async function joinSite(url: string, studyId: string, site: { siteId: string; token: string }, numSamples: number, sockets: SiteSocket[], listen: (s: SiteSocket) => void): Promise<SiteSocket> {
  const s: SiteSocket = connect(url, { transports: ['websocket'], auth: { token: site.token }, reconnection: false, forceNew: true });
  sockets.push(s);
  listen(s);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', (err) => reject(new Error(`${site.siteId} could not connect: ${err.message}`)));
  });
  const ack = await s.emitWithAck('hospital:join', { studyId, numSamples, backend: 'cpu' });
  if (!ack.ok) throw new Error(`${site.siteId} could not join: ${ack.error.code}: ${ack.error.message}`);
  if (!ack.data.statisticsNeeded) throw new Error(`${site.siteId}: the server does not ask for statistics; is this a fresh study?`);
  return s;
}

// ---------------------------------------------------------------- accumulate against numpy

/** Distinct updates held for the accumulate comparison, at most 128 MiB a side; both sides cycle them alike. */
const distinctUpdates = Math.max(1, Math.min(clients, Math.floor((128 * MiB) / (4 * params))));
/** Whole sums per timed try, about 10 M values at least (one at 1 M × 10 and above). */
const ACCUMULATE_REPS = Math.max(1, Math.ceil(10_000_000 / (clients * params)));

const NUMPY_SCRIPT = `
import json, sys, time
import numpy as np
lengths, n, distinct, samples, reps = json.loads(sys.argv[1])
rng = np.random.default_rng(7)
data = [[(rng.random(l, dtype=np.float32) - np.float32(0.5)) * np.float32(0.02) for l in lengths] for _ in range(distinct)]
total = float(sum(samples))
ws = [s / total for s in samples]
print('ready', np.__version__, sys.executable, flush=True)
for line in sys.stdin:
    if line.strip() != 'go':
        break
    t0 = time.perf_counter()
    for _ in range(reps):
        acc = [np.zeros(l) for l in lengths]
        for k in range(n):
            w = ws[k]
            for a, d in zip(acc, data[k % distinct]):
                a += w * d
    print(f'{(time.perf_counter() - t0) * 1000 / reps:.6f}', flush=True)
`;

/** A numpy process that holds its updates and times one weighted sum per `go`; null without numpy. */
class Numpy {
  private lines: string[] = [];
  private waiting: { resolve: (line: string) => void; reject: (err: Error) => void } | null = null;
  private exited: Error | null = null;
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    let buffer = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buffer += d;
      for (let i; (i = buffer.indexOf('\n')) >= 0; ) {
        const line = buffer.slice(0, i).trim();
        buffer = buffer.slice(i + 1);
        const w = this.waiting;
        this.waiting = null;
        if (w) w.resolve(line);
        else this.lines.push(line);
      }
    });
    child.once('exit', (code) => {
      this.exited = new Error(`numpy exited with ${code}`);
      this.waiting?.reject(this.exited);
      this.waiting = null;
    });
  }

  static async start(): Promise<Numpy | null> {
    if (spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status !== 0) return null;
    const child = spawn('python3', ['-c', NUMPY_SCRIPT, JSON.stringify([lengths, clients, distinctUpdates, samples, ACCUMULATE_REPS])], { stdio: ['pipe', 'pipe', 'pipe'] });
    numpyChild = child;
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const np = new Numpy(child);
    const ready = await withTimeout(np.next(), 300_000, 'numpy generating its updates').catch((e: Error) => {
      throw new Error(`${e.message}\n${err}`);
    });
    if (!ready.startsWith('ready ')) throw new Error(`numpy said '${ready}': ${err}`);
    const [, version, python] = ready.split(' ');
    console.log(`numpy ${version} (${python}): ${distinctUpdates} distinct updates held, cycled over ${clients} (ours likewise)`);
    return np;
  }

  private next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  async time(): Promise<number> {
    this.child.stdin.write('go\n');
    return Number(await withTimeout(this.next(), 300_000, 'numpy weighted sum'));
  }

  stop(): void {
    this.child.stdin.end();
    this.child.kill();
    numpyChild = null;
  }
}

let nodeUpdates: Float32Array[][] | null = null;
let accumulate: ServerAccumulate | null = null;
let numpy: Numpy | null | undefined;

/**
 * Each side sums N updates `reps` times a try (so a try lasts some milliseconds however small the
 * model), ours then numpy's, three times; null numpy when it is not installed.
 */
async function compareAccumulate(): Promise<{ name: string; reps: number; nodeMs: number[]; copyMs: number[]; numpyMs: number[] | null }> {
  accumulate ??= await serverAccumulate();
  nodeUpdates ??= Array.from({ length: distinctUpdates }, (_, u) => lengths.map((n, i) => fill(new Float32Array(n), 90_001 + 7919 * u + 31 * i)));
  if (numpy === undefined) numpy = await Numpy.start();
  const deltas = nodeUpdates;
  const acc = accumulate;
  // The figure: updates already in the sum's memory, where the server's fold reads them to (as
  // numpy's are in its arrays); beside it, the same fold copying each update in first.
  const staged = () => {
    for (let r = 0; r < ACCUMULATE_REPS; r++)
      if (acc.runStaged) acc.runStaged(lengths, samples, deltas);
      else acc.run(lengths, samples, (k) => deltas[k % deltas.length]);
  };
  const copying = () => {
    for (let r = 0; r < ACCUMULATE_REPS; r++) acc.run(lengths, samples, (k) => deltas[k % deltas.length]);
  };
  staged(); // warm the JIT
  copying();
  const nodeMs: number[] = [];
  const copyMs: number[] = [];
  const numpyMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    gc();
    let t0 = performance.now();
    staged();
    nodeMs.push((performance.now() - t0) / ACCUMULATE_REPS);
    if (numpy) numpyMs.push(await numpy.time());
    gc();
    t0 = performance.now();
    copying();
    copyMs.push((performance.now() - t0) / ACCUMULATE_REPS);
  }
  return { name: acc.name, reps: ACCUMULATE_REPS, nodeMs, copyMs, numpyMs: numpy ? numpyMs : null };
}

// ---------------------------------------------------------------- one run

interface RunResult {
  intakePerS: number;
  overheadMs: number;
  idleRssMiB: number;
  peakRssMiB: number;
  accepted: number;
  ratio: number | null;
}

async function runOnce(run: number, payloads: Uint8Array[]): Promise<RunResult> {
  const label = `run ${run}/${runs}`;
  const t0 = performance.now();
  const database = adminDatabaseUrl ? await freshDatabase(adminDatabaseUrl) : null;
  liveDatabase = database;
  const sockets: SiteSocket[] = [];
  let server: ConsiliumServer | null = null;
  try {
    server = await startConsilium({
      env: {
        DEMO: '0',
        BENCH_STUDY: `params:${wantedParams},sites:${clients},strategy:${strategy}`,
        ...(database ? { DATABASE_URL: database.url } : {}),
      },
    });
    liveServer = server;
    const pid = server.pid();
    if (!pid) throw new Error('the server has no process id');
    const study = JSON.parse(fs.readFileSync(path.join(server.dataDir, BENCH_STUDY_FILE), 'utf8')) as BenchStudyFile;
    if (study.params !== params) throw new Error(`the server's model has ${study.params} parameters, the bench's ${params}`);
    if (study.sites.length !== clients) throw new Error(`the server made ${study.sites.length} sites, not ${clients}`);
    const tStarted = performance.now();

    // Join: every site connects and joins; each listens for round 1's open and close first.
    const opened: Promise<RoundOpen>[] = [];
    const closedAt: Promise<{ at: number; closed: RoundClosed }>[] = [];
    await withTimeout(
      Promise.all(
        study.sites.map((site, k) =>
          joinSite(server!.url, study.studyId, site, samples[k], sockets, (s) => {
            opened.push(new Promise((resolve) => s.on('round:open', (r) => r.round === 1 && resolve(r))));
            closedAt.push(new Promise((resolve) => s.on('round:closed', (c) => c.round === 1 && resolve({ at: performance.now(), closed: c }))));
          }),
        ),
      ),
      30_000 + 100 * clients,
      `${clients} sites connecting and joining`,
    );
    const tJoined = performance.now();

    // Statistics: the round opens once every site online has sent them.
    await withTimeout(
      Promise.all(
        sockets.map(async (s, k) => {
          const ack = await s.emitWithAck('hospital:statistics', { studyId: study.studyId, statistics: statisticsOf(k, samples[k]) });
          if (!ack.ok) throw new Error(`${study.sites[k].siteId}'s statistics were refused: ${ack.error.code}: ${ack.error.message}`);
        }),
      ),
      30_000 + 100 * clients,
      'statistics acknowledged',
    );
    const rounds = await withTimeout(Promise.all(opened), 60_000 + 100 * clients, `round 1 open at all ${clients} sites`);
    const tOpen = performance.now();
    const baseVersion = rounds[0].baseVersion;
    if (rounds.some((r) => r.baseVersion !== 0)) throw new Error(`round 1 is based on version ${baseVersion}, the updates on version 0`);

    // Idle: the round is open, nothing uploaded yet.
    gc();
    await new Promise((r) => setTimeout(r, 500));
    const idleRssMiB = procMemory(pid, 'VmRSS');
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');

    // Uploads: all at once, each on its own connection.
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    const uploadTimeout = 60_000 + (clients * params * 4) / 1000; // 1 MB/s of the round's bytes, and a minute
    const tFirstSend = performance.now();
    const results = await withTimeout(
      Promise.all(
        study.sites.map((site, k) => upload(agent, server!.url, study.studyId, site.token, `bench-${run}-${k}-${randomBytes(4).toString('hex')}`, payloads[k], uploadTimeout)),
      ),
      uploadTimeout + 10_000,
      `${clients} uploads answered`,
    );
    agent.destroy();
    const acceptedAcks = results.filter((r) => r.status === 200 && r.receipt?.accepted && !r.receipt.duplicate).map((r) => r.ackAt);
    const accepted = acceptedAcks.length;
    const tLastAck = Math.max(...results.map((r) => r.ackAt));
    if (accepted !== clients) {
      const refused = results.map((r, k) => ({ r, k })).filter(({ r }) => !(r.status === 200 && r.receipt?.accepted && !r.receipt.duplicate));
      console.log(`!!! ERROR ${label}: only ${accepted} of ${clients} uploads were accepted; the round cannot close. Refused:`);
      for (const { r, k } of refused.slice(0, 10)) console.log(`!!!   ${study.sites[k].siteId}: HTTP ${r.status} ${r.error ?? JSON.stringify(r.receipt)}`);
      throw new Error(`${label}: ${clients - accepted} of ${clients} uploads were not accepted`);
    }
    const tLastAccepted = Math.max(...acceptedAcks);

    // Close: the first site to hear of it.
    const closeTimeout = 60_000 + (clients * params) / 1000; // 1 M values/s, and a minute
    const first = await withTimeout(Promise.race(closedAt), closeTimeout, `round 1 closing after ${clients} accepted updates`);
    const peakRssMiB = procMemory(pid, 'VmHWM');
    const all = await withTimeout(Promise.all(closedAt), 30_000, `round:closed at all ${clients} sites`);
    const tAllClosed = Math.max(...all.map((c) => c.at));
    if (first.closed.status !== 'closed' || first.closed.contributors !== clients)
      console.log(`!!! ERROR ${label}: round 1 ended ${first.closed.status} with ${first.closed.contributors} of ${clients} contributors`);

    const intakePerS = accepted / ((tLastAck - tFirstSend) / 1000);
    const overheadMs = first.at - tLastAccepted;
    const s = (a: number, b: number) => `${dec((b - a) / 1000, 3)} s`;
    console.log(
      `${label}: server start ${s(t0, tStarted)}, join ${s(tStarted, tJoined)}, statistics ${s(tJoined, tOpen)}, ` +
        `uploads ${s(tFirstSend, tLastAck)} (${accepted}/${clients} accepted), close ${s(tLastAccepted, first.at)} ` +
        `(all sites ${s(tLastAccepted, tAllClosed)}; version ${first.closed.version})`,
    );

    for (const sock of sockets) sock.disconnect();
    sockets.length = 0;
    await server.stop();
    liveServer = null;

    // With this run's server gone, so it competes with neither side.
    const acc = await compareAccumulate();
    const nodeMed = median(acc.nodeMs);
    const ratio = acc.numpyMs ? median(acc.numpyMs) / nodeMed : null;
    console.log(
      `${label}: intake ${dec(intakePerS, 2)}/s, overhead ${dec(overheadMs, 1)} ms, idle RSS ${dec(idleRssMiB, 1)} MiB, peak RSS ${dec(peakRssMiB, 1)} MiB; ` +
        `accumulate ${clients} × ${params} (per sum, ${acc.reps} a try): ${acc.name} ${dec(nodeMed, 2)} ms (best ${dec(Math.min(...acc.nodeMs), 2)}; ` +
        `copying each update in first ${dec(median(acc.copyMs), 2)} ms), ` +
        (acc.numpyMs ? `numpy ${dec(median(acc.numpyMs), 2)} ms (best ${dec(Math.min(...acc.numpyMs), 2)}), ratio ${dec(ratio!, 3)}` : 'numpy na'),
    );
    return { intakePerS, overheadMs, idleRssMiB, peakRssMiB, accepted, ratio };
  } catch (err) {
    if (server) process.stderr.write(`\n--- server output (${label}) ---\n${server.output().slice(-4000)}\n`);
    throw err;
  } finally {
    for (const sock of sockets) sock.disconnect();
    if (server) await server.stop().catch(() => undefined);
    liveServer = null;
    if (database) await database.drop().catch((e: Error) => process.stderr.write(`could not drop the bench database: ${e.message}\n`));
    liveDatabase = null;
  }
}

// ---------------------------------------------------------------- the long study (--rounds R)

/** Bytes and files under `dir`, recursively (file sizes, not blocks); files that vanish meanwhile are skipped. */
function folderSize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return { bytes, files };
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const sub = folderSize(p);
      bytes += sub.bytes;
      files += sub.files;
    } else if (e.isFile()) {
      try {
        bytes += fs.statSync(p).size;
        files++;
      } catch {
        // deleted meanwhile
      }
    }
  }
  return { bytes, files };
}

/** One promise per round and event, made by whichever comes first: the wait or the event. */
class RoundSignals<T> {
  private readonly entries = new Map<number, { promise: Promise<T>; resolve: (v: T) => void }>();
  private entry(round: number) {
    let e = this.entries.get(round);
    if (!e) {
      let resolve!: (v: T) => void;
      const promise = new Promise<T>((r) => (resolve = r));
      e = { promise, resolve };
      this.entries.set(round, e);
    }
    return e;
  }
  fire(round: number, value: T): void {
    this.entry(round).resolve(value);
  }
  of(round: number): Promise<T> {
    return this.entry(round).promise;
  }
  /** Drops the rounds before `round` (their promises are settled and awaited). */
  forgetBefore(round: number): void {
    for (const r of this.entries.keys()) if (r < round) this.entries.delete(r);
  }
}

interface RoundFigures {
  round: number;
  rssMiB: number;
  blobsMiB: number;
  blobFiles: number;
  dataDirMiB: number;
  version: number;
}

/** The size in bytes of one model version as the server stores it (server/studies/service.ts encodeModel). */
function versionBytes(studyId: string, version: number): number {
  const tensors = shapes.map((shape, i) => ({ shape, data: new Float32Array(lengths[i]) }));
  return encodeWeights({ kind: 'model', meta: { studyId, version, templateId: template.id }, tensors }).byteLength;
}

/**
 * The least time between one site's uploads: the server's per-account upload budget spread evenly
 * (it counts in fixed windows of durationSeconds), and half a second of margin.
 */
const UPLOAD_SPACING_MS = (defaultRateLimits.uploadsPerAccount.durationSeconds * 1000) / defaultRateLimits.uploadsPerAccount.points + 500;

async function runLong(): Promise<void> {
  const label = `long study (${studyRounds} rounds)`;
  const database = adminDatabaseUrl ? await freshDatabase(adminDatabaseUrl) : null;
  liveDatabase = database;
  const sockets: SiteSocket[] = [];
  let server: ConsiliumServer | null = null;
  try {
    const t0 = performance.now();
    server = await startConsilium({
      env: {
        DEMO: '0',
        BENCH_STUDY: `params:${wantedParams},sites:${clients},strategy:${strategy},rounds:${studyRounds}`,
        // Every ended round's payloads go once its version is written, whatever the caller's environment says.
        KEEP_UPDATE_ROUNDS: '0',
        ...(database ? { DATABASE_URL: database.url } : {}),
      },
    });
    liveServer = server;
    const pid = server.pid();
    if (!pid) throw new Error('the server has no process id');
    const dataDir = server.dataDir;
    const blobDir = path.join(dataDir, 'blobs');
    const study = JSON.parse(fs.readFileSync(path.join(dataDir, BENCH_STUDY_FILE), 'utf8')) as BenchStudyFile;
    if (study.params !== params) throw new Error(`the server's model has ${study.params} parameters, the bench's ${params}`);
    if (study.sites.length !== clients) throw new Error(`the server made ${study.sites.length} sites, not ${clients}`);
    if (study.rounds !== studyRounds) throw new Error(`the server's study runs ${study.rounds} rounds, not ${studyRounds}`);
    const tStarted = performance.now();

    const figures = (round: number, version: number): RoundFigures => {
      const blobs = folderSize(blobDir);
      return { round, rssMiB: procMemory(pid, 'VmRSS'), blobsMiB: blobs.bytes / MiB, blobFiles: blobs.files, dataDirMiB: folderSize(dataDir).bytes / MiB, version };
    };
    const line = (f: RoundFigures, extra = '') =>
      console.log(
        `round ${String(f.round).padStart(String(studyRounds).length)}/${studyRounds}: rss_mib=${dec(f.rssMiB, 1)} blobs_mib=${dec(f.blobsMiB, 2)} ` +
          `data_dir_mib=${dec(f.dataDirMiB, 2)} versions=${f.version + 1} blob_files=${f.blobFiles}${extra}`,
      );
    const start = figures(0, 0);
    line(start, ` (after start, before any site joined: version 0 only; server start ${dec((tStarted - t0) / 1000, 3)} s)`);

    // Join: every site connects and joins, listening for every round's open and close first.
    const opened = study.sites.map(() => new RoundSignals<RoundOpen>());
    const closed = study.sites.map(() => new RoundSignals<RoundClosed>());
    await withTimeout(
      Promise.all(
        study.sites.map((site, k) =>
          joinSite(server!.url, study.studyId, site, samples[k], sockets, (s) => {
            s.on('round:open', (r) => opened[k].fire(r.round, r));
            s.on('round:closed', (c) => closed[k].fire(c.round, c));
          }),
        ),
      ),
      30_000 + 100 * clients,
      `${clients} sites connecting and joining`,
    );
    await withTimeout(
      Promise.all(
        study.sites.map(async (site, k) => {
          const ack = await sockets[k].emitWithAck('hospital:statistics', { studyId: study.studyId, statistics: statisticsOf(k, samples[k]) });
          if (!ack.ok) throw new Error(`${site.siteId}'s statistics were refused: ${ack.error.code}: ${ack.error.message}`);
        }),
      ),
      30_000 + 100 * clients,
      'statistics acknowledged',
    );

    const openTimeout = 60_000 + 100 * clients;
    const uploadTimeout = 60_000 + (clients * params * 4) / 1000; // 1 MB/s of the round's bytes, and a minute
    const closeTimeout = 60_000 + (clients * params) / 1000; // 1 M values/s, and a minute
    const perRound: RoundFigures[] = [];
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    let lastFirstSend = -Infinity;
    try {
      for (let r = 1; r <= studyRounds; r++) {
        const opens = await withTimeout(Promise.all(opened.map((o) => o.of(r))), openTimeout, `round ${r} open at all ${clients} sites`);
        const baseVersion = opens[0].baseVersion;
        if (opens.some((o) => o.baseVersion !== baseVersion)) throw new Error(`round ${r} opened on different base versions: ${[...new Set(opens.map((o) => o.baseVersion))].join(', ')}`);
        if (baseVersion !== r - 1) console.log(`!!! round ${r} is based on version ${baseVersion}, not ${r - 1}; the updates say ${baseVersion}`);
        const payloads = encodeUpdates(study.studyId, r, baseVersion);

        // Paced to the server's upload limit (a real site trains between rounds for far longer).
        const pace = Math.max(0, lastFirstSend + UPLOAD_SPACING_MS - performance.now());
        if (pace > 0) await new Promise((res) => setTimeout(res, pace));
        const tFirstSend = performance.now();
        lastFirstSend = tFirstSend;
        const results = await withTimeout(
          Promise.all(study.sites.map((site, k) => upload(agent, server!.url, study.studyId, site.token, `bench-${site.siteId}-r${r}`, payloads[k], uploadTimeout, r))),
          uploadTimeout + 10_000,
          `round ${r}: ${clients} uploads answered`,
        );
        const tLastAck = Math.max(...results.map((u) => u.ackAt));
        const refused = results.map((u, k) => ({ u, k })).filter(({ u }) => !(u.status === 200 && u.receipt?.accepted && !u.receipt.duplicate));
        if (refused.length) {
          console.log(`!!! ERROR ${label}, round ${r}: only ${clients - refused.length} of ${clients} uploads were accepted; the round cannot close. Refused:`);
          for (const { u, k } of refused.slice(0, 10)) console.log(`!!!   ${study.sites[k].siteId}: HTTP ${u.status} ${u.error ?? JSON.stringify(u.receipt)}`);
          throw new Error(`round ${r}: ${refused.length} of ${clients} uploads were not accepted`);
        }

        const closes = await withTimeout(Promise.all(closed.map((c) => c.of(r))), closeTimeout, `round ${r} closed at all ${clients} sites`);
        const tClosed = performance.now();
        const c = closes[0];
        if (c.status !== 'closed' || c.contributors !== clients || c.version === null)
          throw new Error(`round ${r} ended ${c.status} with ${c.contributors} of ${clients} contributors (version ${c.version})`);
        opened.forEach((o) => o.forgetBefore(r));
        closed.forEach((o) => o.forgetBefore(r));

        // Settle: the payloads' deletion runs after the close, off its path.
        await new Promise((res) => setTimeout(res, 1000));
        const f = figures(r, c.version);
        perRound.push(f);
        line(
          f,
          ` paced_s=${dec(pace / 1000, 3)} uploads_s=${dec((tLastAck - tFirstSend) / 1000, 3)} ` +
            `close_s=${dec((tClosed - tLastAck) / 1000, 3)}${c.studyStatus === 'completed' ? ' (study completed)' : ''}`,
        );
      }
    } finally {
      agent.destroy();
    }
    const tEnd = performance.now();

    const first = perRound[0];
    const last = perRound[perRound.length - 1];
    const rssMax = Math.max(...perRound.map((f) => f.rssMiB));
    const peakMiB = procMemory(pid, 'VmHWM');
    const growthPerRound = (last.blobsMiB - first.blobsMiB) / (studyRounds - 1);
    const dataGrowthPerRound = (last.dataDirMiB - first.dataDirMiB) / (studyRounds - 1);
    const versionMiB = versionBytes(study.studyId, studyRounds) / MiB;
    const expectedFiles = last.version + 1;
    console.log(`${label}: ${dec((tEnd - tStarted) / 1000, 1)} s after the server started; load average (1/5/15 min): ${loadLine()}`);
    console.log(
      `rss: round 1 ${dec(first.rssMiB, 1)} MiB, last ${dec(last.rssMiB, 1)} MiB, max after a round ${dec(rssMax, 1)} MiB ` +
        `(last − round 1: ${dec(last.rssMiB - first.rssMiB, 1)} MiB); VmHWM over the whole study ${dec(peakMiB, 1)} MiB`,
    );
    console.log(
      `blobs: before round 1 ${dec(start.blobsMiB, 3)} MiB, round 1 ${dec(first.blobsMiB, 3)} MiB, last ${dec(last.blobsMiB, 3)} MiB; ` +
        `growth per round ${dec(growthPerRound, 3)} MiB = ${dec(growthPerRound / versionMiB, 3)} × one version; ` +
        `${last.blobFiles} files after the last round for ${expectedFiles} versions (0..${last.version})` +
        (last.blobFiles === expectedFiles ? ': no payload left' : `: ${last.blobFiles - expectedFiles} more than the versions`),
    );
    console.log(
      `version_mib: one model version file as the server encodes it (${params} float32 values, ${versionBytes(study.studyId, studyRounds) - 4 * params} bytes of header and checksum), ` +
        `computed from the model's parameter count: ${dec(versionMiB, 3)} MiB`,
    );
    console.log(
      `data dir (${database ? 'blobs only; the database is PostgreSQL' : 'blobs and the embedded PGlite database'}): round 1 ${dec(first.dataDirMiB, 2)} MiB, ` +
        `last ${dec(last.dataDirMiB, 2)} MiB, growth per round ${dec(dataGrowthPerRound, 3)} MiB (beyond the blobs ${dec(dataGrowthPerRound - growthPerRound, 3)} MiB)`,
    );
    console.log(
      `bench:round:rounds params=${params} clients=${clients} strategy=${strategy} rounds=${studyRounds} rss_round1_mib=${dec(first.rssMiB, 1)} ` +
        `rss_last_mib=${dec(last.rssMiB, 1)} rss_max_mib=${dec(rssMax, 1)} blobs_round1_mib=${dec(first.blobsMiB, 3)} blobs_last_mib=${dec(last.blobsMiB, 3)} ` +
        `version_mib=${dec(versionMiB, 3)}`,
    );
  } catch (err) {
    if (server) process.stderr.write(`\n--- server output (${label}) ---\n${server.output().slice(-4000)}\n`);
    throw err;
  } finally {
    for (const sock of sockets) sock.disconnect();
    if (server) await server.stop().catch(() => undefined);
    liveServer = null;
    if (database) await database.drop().catch((e: Error) => process.stderr.write(`could not drop the bench database: ${e.message}\n`));
    liveDatabase = null;
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const layout = `${template.model.inputDim} inputs, hidden ${template.model.layers.slice(0, -1).map((l) => (l.type === 'dense' ? l.units : 0)).join('×')}, 1 output`;
  if (studyRounds > 1) {
    console.log(
      `bench:round: ${params} parameters (${layout}; asked ${wantedParams}), ${clients} clients, strategy ${strategy}, a study of ${studyRounds} rounds on one server ` +
        `(--runs ${args.runs === undefined ? 'does not apply' : `${runs} ignored`}), ${adminDatabaseUrl ? 'PostgreSQL (a fresh database)' : 'embedded PGlite'}, KEEP_UPDATE_ROUNDS=0, ` +
        `a round's uploads ${dec(UPLOAD_SPACING_MS / 1000, 2)} s at least after the last round's (the server's upload limit); ` +
        `${os.cpus().length} CPUs, Node ${process.version}`,
    );
    console.log(`load average at start (1/5/15 min): ${loadLine()}`);
    await runLong();
    return;
  }
  console.log(
    `bench:round: ${params} parameters (${layout}; asked ${wantedParams}), ${clients} clients, strategy ${strategy}, ${runs} run(s), ` +
      `${adminDatabaseUrl ? 'PostgreSQL (fresh database each run)' : 'embedded PGlite'}; ${os.cpus().length} CPUs, Node ${process.version}`,
  );
  console.log(`load average at start (1/5/15 min): ${loadLine()}`);
  const payloads = encodeUpdates('bench');
  console.log(`updates: ${clients} × ${dec(payloads[0].byteLength / 1024, 1)} KiB, encoded before the runs`);

  const results: RunResult[] = [];
  try {
    for (let r = 1; r <= runs; r++) results.push(await runOnce(r, payloads));
  } finally {
    numpy?.stop();
  }
  const m = (f: (r: RunResult) => number) => median(results.map(f));
  const ratios = results.map((r) => r.ratio).filter((r): r is number => r !== null);
  console.log(`load average at end (1/5/15 min): ${loadLine()}`);
  console.log(
    `bench:round params=${params} clients=${clients} strategy=${strategy} intake_per_s=${dec(m((r) => r.intakePerS), 2)} ` +
      `overhead_ms=${dec(m((r) => r.overheadMs), 1)} idle_rss_mib=${dec(m((r) => r.idleRssMiB), 1)} peak_rss_mib=${dec(m((r) => r.peakRssMiB), 1)} ` +
      `accumulate_vs_numpy=${ratios.length === results.length ? dec(median(ratios), 3) : 'na'}`,
  );
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`\nbench:round failed: ${err.stack ?? err}\n`);
    process.exit(1);
  },
);
