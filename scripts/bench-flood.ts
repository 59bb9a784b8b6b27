/**
 * One Socket.IO connection floods the real server: `npm run bench:flood [-- --events 20000 --joins 2000]`.
 *
 * Starts `node --import tsx server/main.ts` as a child process on a fresh data folder (embedded PGlite)
 * with `DEMO=0 BENCH_STUDY=params:1000,sites:2` (server/demo/benchStudy.ts: its sites' link tokens are
 * in bench-study.json). Another process (a child `node -e`, so this one's event loop cannot delay it)
 * polls GET /api/health back to back through the whole run. Then, each phase on a new socket of the
 * same hospital, which joins the study first:
 *   progress  `--events` `hospital:progress` reports emitted in one synchronous loop, each with an ack
 *   join      `--joins` `hospital:join` requests, the same way
 * A phase ends once every event is answered, or the server has disconnected the socket (nothing more
 * can come), or after 60 s. For each phase: health latency p50/p99/max over the polls that started
 * within it or in the second after it, the acks (ok / rate_limited / other), the events never answered, whether the server
 * disconnected the socket, how long it took, and the server's VmRSS (/proc/PID/status) after it.
 * Then a second hospital (another account) joins and reports once: the flood must not have hurt it.
 * The last two lines, join phase first:
 *   bench:flood:join events=J health_p99_ms=X health_max_ms=Y rate_limited=N disconnected=yes|no
 *   bench:flood events=E health_p99_ms=X health_max_ms=Y rate_limited=N disconnected=yes|no
 * Target: health p99 ≤ 50 ms during each flood.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { io as connect, type Socket } from 'socket.io-client';
import { startConsilium, type ConsiliumServer } from '../e2e/support/server';
import type { Ack, ClientToServerEvents, ServerToClientEvents } from '../shared/protocol/events';
import { BENCH_STUDY_FILE, type BenchStudyFile } from '../server/demo/benchStudy';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    joins: { type: 'string', default: '2000' },
  },
});
const EVENTS = Number(args.events);
const JOINS = Number(args.joins);
const PHASE_TIMEOUT_MS = 60_000;
const SETTLE_MS = 1_000;

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
/** The untyped emit: the bench sends many of one event and counts the acks, whatever their type. */
type RawEmit = { emit(event: string, payload: unknown, ack: (res: Ack<unknown>) => void): void };

const now = () => performance.timeOrigin + performance.now();
const dec = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'na');

// ---------------------------------------------------------------- the health poller, another process

/** Polls the URL back to back over one keep-alive connection; prints `startEpochMs latencyMs status` a line. */
const POLLER = `
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const url = process.argv[1];
let stopped = false;
process.stdin.on('data', () => {}).on('end', () => { stopped = true; });
function poll() {
  if (stopped) return process.exit(0);
  const t0 = performance.now();
  const at = performance.timeOrigin + t0;
  const done = (status) => {
    process.stdout.write(at.toFixed(3) + ' ' + (performance.now() - t0).toFixed(3) + ' ' + status + '\\n');
    setImmediate(poll);
  };
  const req = http.get(url, { agent, timeout: 30000 }, (res) => { res.resume(); res.on('end', () => done(res.statusCode)); });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => done(0));
}
poll();
`;

interface HealthSample {
  at: number;
  ms: number;
  status: number;
}

function startPoller(url: string) {
  const child = spawn(process.execPath, ['-e', POLLER, `${url}/api/health`], { stdio: ['pipe', 'pipe', 'inherit'] });
  const samples: HealthSample[] = [];
  let rest = '';
  const waiters: { after: number; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      const [at, ms, status] = line.split(' ').map(Number);
      samples.push({ at, ms, status });
      for (let i = waiters.length - 1; i >= 0; i--)
        if (at > waiters[i].after) {
          waiters[i].resolve();
          waiters.splice(i, 1);
        }
    }
  });
  return {
    samples,
    /** Resolves once a poll that started after `t` has finished: every poll started before it has (they run one at a time). */
    settledAfter: (t: number) =>
      new Promise<void>((resolve) => {
        if (samples.some((s) => s.at > t)) resolve();
        else waiters.push({ after: t, resolve });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
        setTimeout(() => child.kill('SIGKILL'), 35_000).unref();
      }),
  };
}

function healthStats(samples: readonly HealthSample[], from: number, to: number) {
  const ms = samples.filter((s) => s.at >= from && s.at <= to).map((s) => s.ms);
  const failed = samples.filter((s) => s.at >= from && s.at <= to && s.status !== 200).length;
  ms.sort((a, b) => a - b);
  const rank = (p: number) => (ms.length ? ms[Math.min(ms.length - 1, Math.ceil(p * ms.length) - 1)] : NaN);
  return { polls: ms.length, failed, p50: rank(0.5), p99: rank(0.99), max: ms.length ? ms[ms.length - 1] : NaN };
}

// ---------------------------------------------------------------- the server

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function openSocket(url: string, token: string): Promise<ClientSocket> {
  const s: ClientSocket = connect(url, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', (err) => reject(new Error(`could not connect: ${err.message}`)));
  });
  return s;
}

async function join(s: ClientSocket, studyId: string): Promise<void> {
  const ack = await s.timeout(30_000).emitWithAck('hospital:join', { studyId, numSamples: 100, backend: 'cpu' });
  if (!ack.ok) throw new Error(`could not join: ${ack.error.code}: ${ack.error.message}`);
}

interface PhaseResult {
  name: string;
  events: number;
  ok: number;
  rateLimited: number;
  other: number;
  otherCodes: Set<string>;
  unanswered: number;
  disconnected: boolean;
  durationMs: number;
  from: number;
  to: number;
}

/** Emits `count` events in one loop and waits for every answer, the server's disconnect, or the timeout. */
async function flood(name: string, s: ClientSocket, count: number, event: string, payload: unknown): Promise<PhaseResult> {
  const r: PhaseResult = { name, events: count, ok: 0, rateLimited: 0, other: 0, otherCodes: new Set(), unanswered: count, disconnected: false, durationMs: 0, from: now(), to: 0 };
  let settle!: () => void;
  const over = new Promise<void>((resolve) => (settle = resolve));
  s.once('disconnect', (reason) => {
    r.disconnected = reason === 'io server disconnect';
    settle();
  });
  const raw = s as unknown as RawEmit;
  const onAck = (res: Ack<unknown>) => {
    r.unanswered--;
    if (res.ok) r.ok++;
    else if (res.error.code === 'rate_limited') r.rateLimited++;
    else {
      r.other++;
      r.otherCodes.add(res.error.code);
    }
    if (r.unanswered === 0) settle();
  };
  const t0 = performance.now();
  for (let i = 0; i < count; i++) raw.emit(event, payload, onAck);
  const timer = setTimeout(settle, PHASE_TIMEOUT_MS);
  await over;
  clearTimeout(timer);
  r.durationMs = performance.now() - t0;
  // Work the server took on may outlive the answers (and a disconnect): the phase's health window runs a second longer.
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  r.to = now();
  return r;
}

// ---------------------------------------------------------------- main

let server: ConsiliumServer | null = null;
let poller: ReturnType<typeof startPoller> | null = null;
const sockets: ClientSocket[] = [];

async function main() {
  console.log(`bench:flood: ${EVENTS} hospital:progress, then ${JOINS} hospital:join, on ${os.cpus().length} CPUs; load: ${os.loadavg().map((l) => dec(l, 2)).join(' ')}`);
  server = await startConsilium({ env: { DEMO: '0', BENCH_STUDY: 'params:1000,sites:2' } });
  const pid = server.pid()!;
  const study = JSON.parse(fs.readFileSync(path.join(server.dataDir, BENCH_STUDY_FILE), 'utf8')) as BenchStudyFile;
  const [flooder, bystander] = study.sites;

  poller = startPoller(server.url);
  // Idle figures: a second of polls before anything is sent.
  const idleFrom = now();
  await new Promise((r) => setTimeout(r, 1_000));
  const idleTo = now();
  await poller.settledAfter(idleTo);
  const idle = healthStats(poller.samples, idleFrom, idleTo);
  const rssBefore = rssMiB(pid);
  console.log(`idle: health p50 ${dec(idle.p50, 2)} ms, p99 ${dec(idle.p99, 2)} ms, max ${dec(idle.max, 2)} ms over ${idle.polls} polls; server RSS ${dec(rssBefore)} MiB`);

  const phases: { result: PhaseResult; rss: number }[] = [];
  const progressSocket = await openSocket(server.url, flooder.token);
  sockets.push(progressSocket);
  await join(progressSocket, study.studyId);
  const report = { studyId: study.studyId, state: 'training', round: 1, epoch: 1, epochs: 5, loss: 0.5, backend: 'cpu' };
  phases.push({ result: await flood('progress', progressSocket, EVENTS, 'hospital:progress', report), rss: rssMiB(pid) });
  progressSocket.disconnect();

  const joinSocket = await openSocket(server.url, flooder.token);
  sockets.push(joinSocket);
  phases.push({ result: await flood('join', joinSocket, JOINS, 'hospital:join', { studyId: study.studyId, numSamples: 100, backend: 'cpu' }), rss: rssMiB(pid) });
  joinSocket.disconnect();

  await poller.settledAfter(now());
  // Another account, right after: the flood spent its own budget, not this hospital's.
  const other = await openSocket(server.url, bystander.token);
  sockets.push(other);
  await join(other, study.studyId);
  const otherAck = await other.timeout(10_000).emitWithAck('hospital:progress', { studyId: study.studyId, state: 'idle' });
  const bystanderOk = otherAck.ok;

  const samples = poller.samples;
  await poller.stop();
  poller = null;
  const warnings = server.output().split('\n').filter((l) => l.includes('past its budget'));

  console.log('');
  const lines: string[] = [];
  for (const { result: r, rss } of phases) {
    const h = healthStats(samples, r.from, r.to);
    console.log(
      `${r.name}: ${r.events} sent in ${dec(r.durationMs, 0)} ms; acked ok ${r.ok}, rate_limited ${r.rateLimited}, other ${r.other}${r.otherCodes.size ? ` (${[...r.otherCodes].join(', ')})` : ''}, unanswered ${r.unanswered}; ` +
        `disconnected by the server: ${r.disconnected ? 'yes' : 'no'}; health p50 ${dec(h.p50, 2)} ms, p99 ${dec(h.p99, 2)} ms, max ${dec(h.max, 2)} ms over ${h.polls} polls (${h.failed} failed); server RSS after ${dec(rss)} MiB`,
    );
    lines.push(`events=${r.events} health_p99_ms=${dec(h.p99, 2)} health_max_ms=${dec(h.max, 2)} rate_limited=${r.rateLimited} disconnected=${r.disconnected ? 'yes' : 'no'}`);
  }
  console.log(`server RSS ${dec(rssBefore)} MiB before, ${dec(rssMiB(pid))} MiB after; ${warnings.length} budget warning(s) logged; another hospital joined and reported afterwards: ${bystanderOk ? 'ok' : 'refused'}`);
  console.log(`load after: ${os.loadavg().map((l) => dec(l, 2)).join(' ')}`);
  console.log(`bench:flood:join ${lines[1]}`);
  console.log(`bench:flood ${lines[0]}`);
}

async function cleanup() {
  for (const s of sockets) s.disconnect();
  if (poller) await poller.stop().catch(() => {});
  if (server) await server.stop().catch(() => {});
}

main()
  .then(cleanup)
  .catch(async (err) => {
    console.error(err);
    await cleanup();
    process.exit(1);
  });
