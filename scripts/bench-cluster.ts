/**
 * `npm run bench:cluster -- --processes N --clients C [--params P] [--rounds R]`
 *
 * N server processes on one PostgreSQL and one Redis behind HAProxy (server/cluster/launch.ts), one
 * bench study of a dense model of about P parameters and C sites, all sampled and all needed. C
 * simulated clients in this process connect through the balancer (Socket.IO over WebSocket, reconnecting
 * as a tab does), join, and upload each round's update over HTTP with an idempotency key, retrying what
 * failed for want of a server. In the middle round, once half of its uploads are acknowledged, the
 * process that coordinates the study is killed (SIGKILL); another must take it over and finish.
 *
 * The same seeded run is made again without the kill (same processes, same clients, same updates): the
 * two final models must be the same bytes.
 *
 * Figures: lost = acknowledged idempotency keys not counted in a closed round; failover_ms = from the
 * kill to another process holding the study's lease (it adopts the study at once); overhead_ms = the
 * round the kill hit, against the same round of the run without (what the failure cost); intake_per_s
 * = uploads acknowledged per second of upload phase (first upload of a round to its last ack), in the
 * run with the kill. With one process nothing is killed (coordinator_killed=0).
 */
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { io as connect, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../shared/protocol/events';
import type { RoundOpen } from '../shared/protocol/schemas';
import { denseBenchTemplate, weightShapes } from '../shared/tasks';
import { encodeWeights } from '../shared/weights/codec';
import { startCluster, type Cluster } from '../server/cluster/launch';
import { STUDY_LEASE_KEY } from '../server/cluster/leases';
import { BENCH_STUDY_FILE, type BenchStudyFile } from '../server/demo/benchStudy';
import { deleteKeys } from '../server/testing/redis';
import { fill } from './benchData';

const { values: args } = parseArgs({
  options: {
    processes: { type: 'string', default: '2' },
    clients: { type: 'string', default: '1000' },
    params: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    database: { type: 'string' },
  },
  strict: true,
});

function whole(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name} must be a whole number from ${min} to ${max}`);
    process.exit(2);
  }
  return n;
}
const processes = whole('processes', args.processes!, 1, 16);
const clients = whole('clients', args.clients!, 2, 20_000);
const wantedParams = whole('params', args.params!, 1_000, 2_000_000);
const rounds = whole('rounds', args.rounds!, 2, 20);
const killRound = Math.ceil(rounds / 2);
const adminUrl = args.database ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const template = denseBenchTemplate(wantedParams);
const shapes = weightShapes(template.model).map((w) => w.shape);
const lengths = shapes.map((s) => s.reduce((a, b) => a * b, 1));
const params = lengths.reduce((a, b) => a + b, 0);
const samplesOf = (k: number) => 20 + ((k * 37) % 180);

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

interface RunResult {
  finalSha: string;
  lost: number;
  acked: number;
  failoverMs: number | null;
  killed: string | null;
  roundMs: number[];
  uploadSeconds: number;
  retries: number;
}

/** The cluster running now: stopped on Ctrl-C, so no process outlives the bench. */
let live: Cluster | null = null;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    void (live?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function payloadOf(studyId: string, k: number, round: number, baseVersion: number): Uint8Array {
  const tensors = lengths.map((n, i) => ({ shape: shapes[i], data: fill(new Float32Array(n), 1 + 7919 * k + 31 * i + 104_729 * (round - 1)) }));
  return encodeWeights({ kind: 'update', meta: { studyId, round, baseVersion, numSamples: samplesOf(k), backend: 'cpu' }, tensors });
}

function post(agent: http.Agent, url: string, token: string, key: string, body: Uint8Array): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': body.byteLength, 'idempotency-key': key },
      timeout: 60_000,
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** The process (its PROCESS_NAME) whose connection holds the study's lease, if any. */
async function leaseHolder(sql: postgres.Sql, studyId: string): Promise<string | null> {
  const rows = await sql<{ name: string }[]>`
    select a.application_name as name from pg_locks l join pg_stat_activity a on a.pid = l.pid
    where l.locktype = 'advisory' and l.granted and l.classid = ${STUDY_LEASE_KEY}::oid
      and l.objid = (hashtext(${studyId})::bigint & 4294967295)::oid`;
  return rows[0]?.name.replace(/^consilium:/, '') ?? null;
}

async function runOnce(label: string, kill: boolean): Promise<RunResult> {
  const suffix = randomBytes(4).toString('hex');
  const dbName = `consilium_bench_cluster_${suffix}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${dbName}`);
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;
  const sql = postgres(dbUrl.toString(), { max: 2, onnotice: () => {} });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-bench-cluster-'));
  const sockets: Client[] = [];
  let cluster: Cluster | null = null;
  try {
    const t0 = performance.now();
    cluster = await startCluster({
      processes,
      databaseUrl: dbUrl.toString(),
      createDatabase: false,
      dir,
      build: false,
      env: {
        DEMO: '0',
        LOG_LEVEL: 'warn',
        BENCH_STUDY: `params:${wantedParams},sites:${clients},strategy:fedavg,rounds:${rounds}`,
        KEEP_UPDATE_ROUNDS: '0',
        REDIS_PREFIX: `consilium-bench-${suffix}:`,
        BLOB_DIR: path.join(dir, 'blobs'),
      },
      onLine: (source, line) => {
        if (/"level":(50|60)/.test(line)) console.log(`  [${source}] ${line.slice(0, 300)}`);
      },
    });
    live = cluster;
    const study = JSON.parse(fs.readFileSync(path.join(cluster.processes[0].dataDir, BENCH_STUDY_FILE), 'utf8')) as BenchStudyFile;
    if (study.params !== params) throw new Error(`the servers' model has ${study.params} parameters, the bench's ${params}`);
    console.log(`${label}: ${processes} processes and HAProxy up in ${((performance.now() - t0) / 1000).toFixed(1)} s at ${cluster.url}`);

    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const acked = new Map<string, number>(); // idempotency key → round
    const ackAt = new Map<number, number[]>();
    const firstSend = new Map<number, number>();
    let retries = 0;
    const uploading = new Set<string>();
    const upload = async (k: number, open: RoundOpen) => {
      const key = `bench-${k}-r${open.round}`;
      if (acked.has(key) || uploading.has(key)) return;
      uploading.add(key);
      const body = payloadOf(study.studyId, k, open.round, open.baseVersion);
      const url = `${cluster!.url}/api/studies/${study.studyId}/rounds/${open.round}/updates`;
      if (!firstSend.has(open.round)) firstSend.set(open.round, performance.now());
      try {
        for (let attempt = 0; ; attempt++) {
          const status = await post(agent, url, study.sites[k].token, key, body);
          if (status >= 200 && status < 300) {
            acked.set(key, open.round);
            ackAt.set(open.round, [...(ackAt.get(open.round) ?? []), performance.now()]);
            return;
          }
          // No server answered (the killed one, or a 502/503 from the balancer meanwhile): the same upload again.
          if (status === 0 || status >= 500 || status === 429) {
            retries++;
            await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 4)));
            continue;
          }
          console.log(`  site ${k}: round ${open.round} upload refused with ${status}`);
          return;
        }
      } finally {
        uploading.delete(key);
      }
    };

    // Every client connects through the balancer and joins; a reconnect joins again, as a tab does.
    await Promise.all(
      study.sites.map(
        (site, k) =>
          new Promise<void>((resolve, reject) => {
            const s: Client = connect(cluster!.url, { transports: ['websocket'], auth: { token: site.token }, forceNew: true, reconnectionDelay: 200, reconnectionDelayMax: 2000 });
            sockets.push(s);
            let first = true;
            s.on('round:open', (open) => void upload(k, open));
            s.on('connect', async () => {
              try {
                const ack = await s.timeout(30_000).emitWithAck('hospital:join', { studyId: study.studyId, numSamples: samplesOf(k), backend: 'cpu' });
                if (!ack.ok) throw new Error(`${ack.error.code}: ${ack.error.message}`);
                if (ack.data.statisticsNeeded) {
                  const stats = { rows: samplesOf(k), numeric: Object.fromEntries(template.features.map((f, i) => [f.name, { count: samplesOf(k), sum: samplesOf(k) * Math.sin(k + i) * 0.5, sumSquares: samplesOf(k) * 1.2 }])), categorical: {} };
                  await s.timeout(30_000).emitWithAck('hospital:statistics', { studyId: study.studyId, statistics: stats });
                }
                if (ack.data.openRound) void upload(k, ack.data.openRound);
                if (first) resolve();
                first = false;
              } catch (err) {
                if (first) reject(new Error(`site ${k} could not join: ${(err as Error).message}`));
              }
            });
          }),
      ),
    );
    console.log(`${label}: ${clients} clients joined in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const roundMs: number[] = [];
    let failoverMs: number | null = null;
    let killed: string | null = null;
    let opened = performance.now();
    for (let r = 1; r <= rounds; r++) {
      let status = '';
      for (;;) {
        const [row] = await sql<{ status: string }[]>`select r.status from rounds r where r.study_id = ${study.studyId} and r.number = ${r}`;
        status = row?.status ?? 'none';
        if (status === 'closed' || status === 'abandoned') break;
        if (kill && r === killRound && !killed && [...acked.values()].filter((x) => x === r).length >= clients / 2) {
          const holder = await leaseHolder(sql, study.studyId);
          const victim = cluster.processes.find((p) => p.name === holder);
          if (victim) {
            killed = victim.name;
            const tKill = performance.now();
            await victim.kill('SIGKILL');
            for (;;) {
              const now = await leaseHolder(sql, study.studyId);
              if (now && now !== killed) break;
              await sleep(10);
            }
            failoverMs = performance.now() - tKill;
            console.log(`${label}: round ${r}: killed ${killed} (coordinator) with ${[...acked.values()].filter((x) => x === r).length} of ${clients} uploads acknowledged; another took the study over in ${failoverMs.toFixed(0)} ms`);
          }
        }
        await sleep(20);
      }
      if (status !== 'closed') throw new Error(`round ${r} ended ${status}`);
      const now = performance.now();
      roundMs.push(now - opened);
      opened = now;
      console.log(`${label}: round ${r} closed in ${(roundMs[r - 1] / 1000).toFixed(2)} s (${[...acked.values()].filter((x) => x === r).length} acknowledged)`);
    }

    const counted = new Set(
      (await sql<{ key: string }[]>`select u.idempotency_key as key from updates u join rounds r on r.id = u.round_id where r.study_id = ${study.studyId} and r.status = 'closed'`).map((x) => x.key),
    );
    const lost = [...acked.keys()].filter((k) => !counted.has(k)).length;
    const [last] = await sql<{ sha: string }[]>`select sha256 as sha from model_versions where study_id = ${study.studyId} order by version desc limit 1`;
    let uploadSeconds = 0;
    for (const [r, t] of firstSend) uploadSeconds += (Math.max(...(ackAt.get(r) ?? [t])) - t) / 1000;
    agent.destroy();
    return { finalSha: last.sha, lost, acked: acked.size, failoverMs, killed, roundMs, uploadSeconds, retries };
  } finally {
    for (const s of sockets) s.disconnect();
    await cluster?.stop();
    live = null;
    // The adapter's stream and the presence keys of this run's prefix.
    const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379');
    await deleteKeys(redis, `consilium-bench-${suffix}:`).catch(() => undefined);
    redis.disconnect();
    await sql.end({ timeout: 1 });
    await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch(() => undefined);
    await admin.end({ timeout: 1 });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  console.log(`bench:cluster: ${processes} processes, ${clients} clients, ${params} parameters, ${rounds} rounds; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, ${os.cpus().length} cores`);
  const kill = processes > 1;
  const failed = await runOnce(kill ? 'with the kill' : 'one process', kill);
  const calm = kill ? await runOnce('without the kill', false) : failed;
  // What the kill cost the round it hit: that round's time against the same round without the kill.
  const hit = killRound - 1;
  const overhead = kill ? failed.roundMs[hit] - calm.roundMs[hit] : 0;
  const intake = failed.acked / Math.max(failed.uploadSeconds, 1e-9);
  console.log(`  rounds (s): with the kill ${failed.roundMs.map((m) => (m / 1000).toFixed(2)).join(' ')}; without ${calm.roundMs.map((m) => (m / 1000).toFixed(2)).join(' ')}; upload retries ${failed.retries}`);
  console.log(`  intake without the kill ${(calm.acked / Math.max(calm.uploadSeconds, 1e-9)).toFixed(1)}/s; final model ${failed.finalSha.slice(0, 16)}… vs ${calm.finalSha.slice(0, 16)}…; load now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(
    `bench:cluster processes=${processes} clients=${clients} rounds=${rounds} lost=${failed.lost} coordinator_killed=${failed.killed ? 1 : 0} ` +
      `failover_ms=${failed.failoverMs === null ? 0 : Math.round(failed.failoverMs)} identical=${failed.finalSha === calm.finalSha} overhead_ms=${Math.round(overhead)} intake_per_s=${intake.toFixed(1)}`,
  );
  process.exit(0);
}

void main().catch((err) => {
  console.error(`bench:cluster failed: ${err?.stack ?? err}`);
  process.exit(1);
});
