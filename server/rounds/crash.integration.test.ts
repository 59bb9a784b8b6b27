import { createHash } from 'node:crypto';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsilium, type ConsiliumServer, type DemoHospitalLink } from '../../e2e/support/server';
import { siteStatistics } from '../../shared/fl/normalisation';
import { strategyConfigSchema } from '../../shared/fl/registry';
import { demoHospitals, generateHeartRecords } from '../../shared/synthetic';
import { heartRiskFeatures, heartRiskV2, weightShapes } from '../../shared/tasks';
import { encodeWeights } from '../../shared/weights/codec';
import type { ClientSocket } from '../testing/harness';
import { postgresUrl, scratchPostgres } from '../testing/databases';

/**
 * The server killed (SIGKILL) at named points of a round, on the embedded database and on PostgreSQL:
 * after it restarts, the round completes with the updates accepted before the kill, each counted
 * once, and the model it makes is bit for bit the one an uninterrupted run makes from the same
 * updates (the round's sum is rebuilt from the stored payloads, exactly).
 */
const STUDY = 'heart-demo';
const shapes = weightShapes(heartRiskV2.model);

function deltaFor(k: number): Float32Array[] {
  return shapes.map(({ shape }, t) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(k * 5 + t * 2 + i) * 0.02));
}

const samples = [210, 130, 70];

function body(k: number, round: number) {
  const meta = { studyId: STUDY, round, baseVersion: round - 1, numSamples: samples[k], backend: 'cpu' };
  return encodeWeights({ kind: 'update', meta, tensors: deltaFor(k + 10 * round).map((data, i) => ({ shape: shapes[i].shape, data })) });
}

/** Where a run keeps its state: PostgreSQL (a fresh database) or, with no URL, the server's own embedded PGlite. */
type DatabaseKind = 'pglite' | 'postgres';

async function freshDatabase(kind: DatabaseKind): Promise<{ url: string | null; drop(): Promise<void> }> {
  if (kind === 'pglite') return { url: null, drop: async () => {} };
  return (await scratchPostgres())!;
}

async function joinHospitals(server: ConsiliumServer, hospitals: DemoHospitalLink[], opts: { statistics: boolean; round: number }): Promise<ClientSocket[]> {
  const sockets: ClientSocket[] = [];
  const opens: Promise<unknown>[] = [];
  for (const h of hospitals) {
    const s: ClientSocket = connect(server.url, { transports: ['websocket'], auth: { token: h.token }, reconnection: false, forceNew: true });
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
    });
    sockets.push(s);
    opens.push(openRound(s, opts.round));
    const ack = (await s.emitWithAck('hospital:join', { studyId: STUDY, numSamples: samples[hospitals.indexOf(h)] })) as { ok: boolean; data?: { openRound: { round: number } | null } };
    expect(ack.ok).toBe(true);
    if (ack.data?.openRound?.round === opts.round) opens[opens.length - 1] = Promise.resolve(ack.data.openRound);
  }
  if (opts.statistics) {
    for (const [i, s] of sockets.entries()) {
      const statistics = siteStatistics(heartRiskFeatures, generateHeartRecords(demoHospitals[i]));
      expect(await s.emitWithAck('hospital:statistics', { studyId: STUDY, statistics })).toMatchObject({ ok: true });
    }
    await Promise.all(opens);
  }
  return sockets;
}

function openRound(s: ClientSocket, round: number): Promise<unknown> {
  return new Promise((resolve) => {
    const on = (r: { round: number }) => {
      if (r.round !== round) return;
      s.off('round:open', on);
      resolve(r);
    };
    s.on('round:open', on);
  });
}

async function upload(server: ConsiliumServer, h: DemoHospitalLink, k: number, round: number) {
  const res = await fetch(`${server.url}/api/studies/${STUDY}/rounds/${round}/updates`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/octet-stream', 'idempotency-key': `crash-test-${round}-${k}` },
    body: body(k, round),
  });
  return { status: res.status, body: (await res.json()) as { duplicate?: boolean; error?: { code: string } } };
}

/** A version of the study, as stored: its SHA-256 (the bytes are the canonical container). */
async function versionHash(server: ConsiliumServer, h: DemoHospitalLink, version: number): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${server.url}/api/studies/${STUDY}/models/${version}`, { headers: { authorization: `Bearer ${h.token}` } });
    if (res.status === 200) return createHash('sha256').update(new Uint8Array(await res.arrayBuffer())).digest('hex');
    if (Date.now() > deadline) throw new Error(`version ${version} never appeared (last status ${res.status})\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The platform admin signed in over HTTP, as the console signs in. */
async function adminSession(server: ConsiliumServer): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(server.admin) });
  expect(res.status).toBe(200);
  const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]);
  const csrf = cookies.find((c) => c.startsWith('consilium_csrf='))?.split('=')[1] ?? '';
  return { cookie: cookies.join('; '), csrf };
}

interface Scenario {
  /** `CONSILIUM_TEST_CRASH_AT`, or null for the uninterrupted run. */
  crashAt: string | null;
  /** The study's strategy; its server state must survive the crash. */
  strategy?: Record<string, unknown>;
  /** Rounds to run; the crash comes in the last one. */
  rounds: number;
}

async function run(kind: DatabaseKind, { crashAt, strategy, rounds }: Scenario): Promise<{ sha: string; duplicates: number }> {
  const db = await freshDatabase(kind);
  const env: Record<string, string> = { ...(db.url ? { DATABASE_URL: db.url } : {}), DEMO: '1', DEMO_ROUNDS: String(rounds + 1), DEMO_DEADLINE_MS: '600000' };
  const server = await startConsilium({ env: crashAt ? { ...env, CONSILIUM_TEST_CRASH_AT: crashAt } : env });
  let sockets: ClientSocket[] = [];
  try {
    if (strategy) {
      // Before any round opens, as an admin's configuration change would.
      const { cookie, csrf } = await adminSession(server);
      const res = await fetch(`${server.url}/api/studies/${STUDY}/config`, {
        method: 'PATCH',
        headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
        body: JSON.stringify({ strategy }),
      });
      expect(res.status, await res.text()).toBe(200);
    }
    const hospitals = server.hospitals.slice(0, 3);
    sockets = await joinHospitals(server, hospitals, { statistics: true, round: 1 });
    let duplicates = 0;
    for (let round = 1; round <= rounds; round++) {
      const next = round < rounds ? Promise.all(sockets.map((s) => openRound(s, round + 1))) : null;
      let delivered = 0;
      for (let k = 0; k < 3 && server.running(); k++) {
        // A response cut off by the kill is what a hospital's tab sees in a crash: it will retry.
        const res = await upload(server, hospitals[k], k, round).catch(() => null);
        if (res) expect(res.status).toBe(200);
        delivered = k + 1;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (crashAt && round === rounds) {
        // The kill comes during an upload, or (inside the aggregation) just after the last one's reply.
        await server.exited();
        for (const s of sockets) s.disconnect();
        await server.start({ CONSILIUM_TEST_CRASH_AT: '' });
        sockets = await joinHospitals(server, hospitals, { statistics: false, round });
        // Every tab retries what it may not have delivered, with the same key; then the rest arrive.
        for (let k = 0; k < 3; k++) {
          const res = await upload(server, hospitals[k], k, round);
          if (k < delivered) {
            // Accepted before the kill, or lost with the cut-off transaction: never counted twice.
            expect(res.status).toBe(200);
            if (res.body.duplicate) duplicates++;
          } else expect(res.status === 200 || res.body.error?.code === 'round_not_open').toBe(true);
        }
      } else if (next) await next;
    }
    return { sha: await versionHash(server, hospitals[0], rounds), duplicates };
  } finally {
    for (const s of sockets) s.disconnect();
    await server.stop();
    await db.drop();
  }
}

const kinds: DatabaseKind[] = postgresUrl ? ['pglite', 'postgres'] : ['pglite'];

describe.each(kinds)('a server killed mid-round (%s)', (kind) => {
  let reference: string;
  beforeAll(async () => {
    reference = (await run(kind, { crashAt: null, rounds: 1 })).sha;
  }, 120_000);

  it('after 2 of 3 updates were accepted: restarts, counts them once, and makes the same model', async () => {
    const { sha, duplicates } = await run(kind, { crashAt: 'update-accepted:2', rounds: 1 });
    expect(duplicates).toBe(2);
    expect(sha).toBe(reference);
  }, 120_000);

  it('with the second update stored but not yet recorded: its retry is taken as new, and the model is the same', async () => {
    const { sha, duplicates } = await run(kind, { crashAt: 'update-stored:2', rounds: 1 });
    expect(duplicates).toBe(1);
    expect(sha).toBe(reference);
  }, 120_000);

  it('inside the aggregation transaction: nothing of it survives, the restart aggregates the same updates into the same model', async () => {
    const { sha, duplicates } = await run(kind, { crashAt: 'aggregation-tx', rounds: 1 });
    expect(duplicates).toBe(3);
    expect(sha).toBe(reference);
  }, 120_000);

  it('FedYogi killed inside round 2\'s aggregation resumes from the moments stored with version 1', async () => {
    const strategy = strategyConfigSchema.parse({ name: 'fedyogi', options: { serverLearningRate: 0.05 } });
    const uninterrupted = await run(kind, { crashAt: null, strategy, rounds: 2 });
    const { sha, duplicates } = await run(kind, { crashAt: 'aggregation-tx:2', strategy, rounds: 2 });
    expect(duplicates).toBe(3);
    expect(sha).toBe(uninterrupted.sha);
    // And the strategy mattered: FedAvg makes another version 2.
    expect((await run(kind, { crashAt: null, rounds: 2 })).sha).not.toBe(uninterrupted.sha);
  }, 240_000);
});
