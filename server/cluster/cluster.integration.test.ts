import { PGlite } from '@electric-sql/pglite';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siteStatistics } from '../../shared/fl/normalisation';
import type { RoundClosed, RoundOpen } from '../../shared/protocol/schemas';
import { demoHospitals, generateHeartRecords } from '../../shared/synthetic';
import { heartRiskFeatures } from '../../shared/tasks';
import { decodeWeights, encodeWeights } from '../../shared/weights/codec';
import { loadSigningKey } from '../auth/secret';
import { createTokens } from '../auth/tokens';
import { openDatabase } from '../db/client';
import { sites } from '../db/schema';
import { createStudy, enrolSite } from '../studies/service';
import { scratchPostgres } from '../testing/databases';
import type { ClientSocket } from '../testing/harness';
import { heartShapes, startHeartStudy } from '../testing/heartStudy';
import { deleteKeys, redisAnswers, testRedisUrl } from '../testing/redis';
import { SecureClient } from '../testing/secureClient';
import { findHaproxy, STICKY_COOKIE } from './haproxy';
import { startCluster, type Cluster } from './launch';
import { STUDY_LEASE_KEY } from './leases';

/*
 * Three server processes on one PostgreSQL and one Redis, behind HAProxy, as `npm run cluster` runs
 * them: three hospitals, each tab pinned (by the balancer's sticky cookie) to a different process.
 */

const STUDY = 'cluster-heart';
/** A second study, under secure aggregation: its keys and masked inputs live in its coordinator's memory only. */
const SECURE = 'cluster-secure';
const hospitals = demoHospitals.slice(0, 3);
const records = [120, 80, 100];
const config = { minParticipants: 3, rounds: 3, roundDeadlineMs: 10 * 60_000 };

const pg = await scratchPostgres();
const missing = [!pg && 'PostgreSQL (TEST_DATABASE_URL)', !findHaproxy() && 'HAProxy (apt-get install haproxy)', !(await redisAnswers()) && 'Redis at 127.0.0.1:6379'].filter(Boolean);
if (missing.length && process.env.CI) throw new Error(`the cluster tests need ${missing.join(', ')}`);
if (missing.length) console.warn(`\n!!! SKIPPED: the cluster tests need ${missing.join(', ')}\n`);

/** Each site's update for a round: fixed values, so the same run gives the same model. */
function deltaOf(k: number, round: number): Float32Array[] {
  return heartShapes.map((s, i) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    return Float32Array.from({ length: n }, (_, j) => Math.sin(7 * k + 3 * i + 0.37 * j + 11 * round) * 0.01);
  });
}

function bodyOf(k: number, round: number, baseVersion: number): Uint8Array {
  const meta = { studyId: STUDY, round, baseVersion, numSamples: records[k], backend: 'cpu' };
  return encodeWeights({ kind: 'update', meta, tensors: deltaOf(k, round).map((data, i) => ({ shape: heartShapes[i].shape, data })) });
}

describe.skipIf(missing.length > 0)('one federation on three server processes behind HAProxy', () => {
  let cluster: Cluster;
  let sql: postgres.Sql;
  let tokens: string[];
  const prefix = `consilium-test-${randomBytes(4).toString('hex')}:`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consilium-cluster-test-'));
  const errors: string[] = [];
  const tabs: { socket: ClientSocket; opened: RoundOpen[]; closed: RoundClosed[]; pinned: string }[] = [];

  beforeAll(async () => {
    // The study's version 0 goes to the blob folder the processes share.
    const database = await openDatabase({ url: pg!.url, blobDir: path.join(dir, 'blobs') });
    for (const h of hospitals) await database.db.insert(sites).values({ id: h.id, name: h.name });
    await createStudy(database.db, { id: STUDY, name: STUDY, templateId: 'heart-risk', config });
    for (const h of hospitals) await enrolSite(database.db, STUDY, h.id);
    await createStudy(database.db, {
      id: SECURE,
      name: SECURE,
      templateId: 'heart-risk',
      config: { ...config, rounds: 1, secureAggregation: { fractionBits: null }, clipping: { mode: 'fixed', norm: 1 } },
    });
    for (const h of hospitals) await enrolSite(database.db, SECURE, h.id);
    const signer = createTokens(await loadSigningKey(database.db));
    tokens = await Promise.all(hospitals.map((h) => signer.hospitalLink(h.id)));
    await database.close();
    sql = postgres(pg!.url, { max: 2, onnotice: () => {} });
    cluster = await startCluster({
      processes: 3,
      databaseUrl: pg!.url,
      createDatabase: false,
      dir,
      build: false,
      env: { DEMO: '0', LOG_LEVEL: process.env.CLUSTER_TEST_LOG ? 'info' : 'warn', REDIS_PREFIX: prefix, BLOB_DIR: path.join(dir, 'blobs') },
      onLine: (source, line) => {
        if (process.env.CLUSTER_TEST_LOG) fs.appendFileSync(process.env.CLUSTER_TEST_LOG, `${source}: ${line}\n`);
        if (/"level":(50|60)/.test(line)) errors.push(`${source}: ${line}`);
      },
    });
  }, 180_000);

  afterAll(async () => {
    for (const t of tabs) t.socket.disconnect();
    await cluster?.stop();
    await sql?.end({ timeout: 1 });
    await pg?.drop();
    const r = new Redis(testRedisUrl);
    await deleteKeys(r, prefix);
    r.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** The process (its name) whose connection holds the study's lease. */
  async function coordinator(): Promise<string | null> {
    const rows = await sql<{ name: string }[]>`
      select a.application_name as name from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.classid = ${STUDY_LEASE_KEY}::oid and l.objid = (hashtext(${STUDY})::bigint & 4294967295)::oid`;
    return rows[0]?.name.replace(/^consilium:/, '') ?? null;
  }

  async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 30_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** An upload through the balancer, again while no process answers (the killed one, before the balancer notices). */
  async function upload(k: number, round: number, baseVersion: number): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${cluster.url}/api/studies/${STUDY}/rounds/${round}/updates`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[k]}`, 'content-type': 'application/octet-stream', 'idempotency-key': `site-${k}-round-${round}` },
        body: Buffer.from(bodyOf(k, round, baseVersion)),
      }).catch(() => null);
      if (res && res.status < 500) return res.status;
      if (attempt > 40) return res?.status ?? 0;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  const roundClosed = (round: number) =>
    until(`round ${round} closed`, async () => (await sql<{ status: string }[]>`select status from rounds where study_id = ${STUDY} and number = ${round}`)[0]?.status === 'closed');

  async function modelBytes(version: number): Promise<number[]> {
    const res = await fetch(`${cluster.url}/api/studies/${STUDY}/models/${version}`, { headers: { authorization: `Bearer ${tokens[0]}` } });
    expect(res.status).toBe(200);
    return decodeWeights(new Uint8Array(await res.arrayBuffer())).tensors.flatMap((t) => [...t.data]);
  }

  it('tabs on different processes all get the same round events, whichever process coordinates', async () => {
    for (const [k, h] of hospitals.entries()) {
      const pinned = cluster.processes[k].name;
      const socket: ClientSocket = connect(cluster.url, {
        transports: ['websocket'],
        auth: { token: tokens[k] },
        forceNew: true,
        reconnectionDelay: 200,
        reconnectionDelayMax: 1000,
        extraHeaders: { cookie: `${STICKY_COOKIE}=${pinned}` },
      });
      const tab = { socket, opened: [] as RoundOpen[], closed: [] as RoundClosed[], pinned };
      tabs.push(tab);
      socket.on('round:open', (r) => tab.opened.push(r));
      socket.on('round:closed', (c) => tab.closed.push(c));
      // As a tab does: (re)join on every connection, and take the round in progress from the answer.
      socket.on('connect', async () => {
        const ack = await socket.emitWithAck('hospital:join', { studyId: STUDY, numSamples: records[k], backend: 'cpu' });
        if (ack.ok && ack.data.openRound) tab.opened.push(ack.data.openRound);
      });
      await until(`${h.id} connected`, async () => socket.connected);
    }
    // Each tab is on its own process: its presence is published under that process's name.
    const redis = new Redis(testRedisUrl);
    try {
      for (const [k, tab] of tabs.entries())
        await until(`${hospitals[k].id} on ${tab.pinned}`, async () => Object.values(await redis.hgetall(`${prefix}presence:${tab.pinned}`)).some((v) => v.includes(hospitals[k].id)));
    } finally {
      redis.disconnect();
    }
    for (const [k, tab] of tabs.entries()) {
      const ack = await tab.socket.emitWithAck('hospital:statistics', { studyId: STUDY, statistics: siteStatistics(heartRiskFeatures, generateHeartRecords(hospitals[k])) });
      expect(ack.ok).toBe(true);
    }
    await until('round 1 open at every tab', async () => tabs.every((t) => t.opened.some((o) => o.round === 1)));
    const leader = await coordinator();
    expect(cluster.processes.map((p) => p.name)).toContain(leader);

    for (const k of [0, 1, 2]) expect(await upload(k, 1, 0)).toBe(200);
    await roundClosed(1);
    await until('round 1 closed at every tab', async () => tabs.every((t) => t.closed.some((c) => c.round === 1)));
    for (const tab of tabs) expect(tab.closed.filter((c) => c.round === 1)).toHaveLength(1);
    expect(tabs.map((t) => t.closed[0].version)).toEqual([1, 1, 1]);
  }, 120_000);

  it('secure aggregation across processes: each step reaches the coordinator, whichever process the site talks to', async () => {
    const failures: unknown[] = [];
    const sockets: ClientSocket[] = [];
    try {
      for (const [k, h] of hospitals.entries()) {
        const socket: ClientSocket = connect(cluster.url, { transports: ['websocket'], auth: { token: tokens[k] }, forceNew: true, extraHeaders: { cookie: `${STICKY_COOKIE}=${cluster.processes[k].name}` } });
        sockets.push(socket);
        const client = new SecureClient({ url: cluster.url, studyId: SECURE, token: tokens[k], id: h.id, onError: (err) => failures.push(err) }, socket);
        const play = (open: RoundOpen) => {
          if (!open.secureAggregation) return;
          client.open(open as RoundOpen & { secureAggregation: NonNullable<RoundOpen['secureAggregation']> }, null);
          void client.submit(open.round, deltaOf(k, 9), records[k]).catch((err) => failures.push(err));
        };
        socket.on('round:open', play);
        await until(`${h.id} connected`, async () => socket.connected);
        const ack = await socket.emitWithAck('hospital:join', { studyId: SECURE, numSamples: records[k], backend: 'cpu' });
        expect(ack.ok).toBe(true);
        if (ack.ok && ack.data.openRound) play(ack.data.openRound);
      }
      for (const [k, socket] of sockets.entries())
        expect((await socket.emitWithAck('hospital:statistics', { studyId: SECURE, statistics: siteStatistics(heartRiskFeatures, generateHeartRecords(hospitals[k])) })).ok).toBe(true);
      const [round] = await until('the secure round closed', async () => {
        const rows = await sql<{ status: string; contributors: number | null }[]>`select status, contributors from rounds where study_id = ${SECURE} and number = 1`;
        return rows[0] && rows[0].status !== 'open' && rows[0].status !== 'aggregating' ? rows : null;
      });
      expect(failures).toEqual([]);
      expect(round).toEqual({ status: 'closed', contributors: 3 });
      // Nothing of any one site's input was stored.
      const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from updates u join rounds r on r.id = u.round_id where r.study_id = ${SECURE}`;
      expect(n).toBe(0);
    } finally {
      for (const s of sockets) s.disconnect();
    }
  }, 120_000);

  it('kill -9 of the coordinator mid-round: another process takes the study over within 10 s and the round ends with the same model', async () => {
    await until('round 2 open at every tab', async () => tabs.every((t) => t.opened.some((o) => o.round === 2)));
    expect(await upload(0, 2, 1)).toBe(200);
    expect(await upload(1, 2, 1)).toBe(200);
    const leader = (await coordinator())!;
    const victim = cluster.processes.find((p) => p.name === leader)!;
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    const next = await until('another coordinator', async () => {
      const now = await coordinator();
      return now && now !== leader ? now : null;
    });
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect(next).not.toBe(leader);

    // The third site's update goes through the balancer to a live process; the round closes with all three.
    expect(await upload(2, 2, 1)).toBe(200);
    // A retry of an update the dead process acknowledged is a duplicate, not a second count.
    expect(await upload(0, 2, 1)).toBe(200);
    await roundClosed(2);
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from updates u join rounds r on r.id = u.round_id where r.study_id = ${STUDY} and r.number = 2`;
    expect(n).toBe(3);
    const clustered = await modelBytes(2);

    // The same two rounds on one process, no failure: the same bits.
    const reference = await openDatabase({ pglite: new PGlite() });
    const target = { name: 'pglite' as const, open: async () => reference, reset: async () => undefined, dispose: async () => undefined };
    const study = await startHeartStudy(target, reference, { studyId: STUDY, hospitals, records, config });
    try {
      for (const round of [1, 2])
        for (const k of [0, 1, 2]) {
          const res = await fetch(`${study.server.url}/api/studies/${STUDY}/rounds/${round}/updates`, {
            method: 'POST',
            headers: { authorization: `Bearer ${await study.token(k)}`, 'content-type': 'application/octet-stream', 'idempotency-key': `site-${k}-round-${round}` },
            body: Buffer.from(bodyOf(k, round, round - 1)),
          });
          expect(res.status).toBe(200);
          // The round closes and the next opens before the next round's uploads.
          await study.server.consilium.coordinator.settle();
        }
      const res = await fetch(`${study.server.url}/api/studies/${STUDY}/models/2`, { headers: { authorization: `Bearer ${await study.token(0)}` } });
      expect(res.status).toBe(200);
      const alone = decodeWeights(new Uint8Array(await res.arrayBuffer())).tensors.flatMap((t) => [...t.data]);
      expect(clustered).toEqual(alone);
    } finally {
      await study.stop();
      await reference.close();
    }
  }, 180_000);

  it('a drained process hands its study over and its tabs reconnect elsewhere, each getting every later event once', async () => {
    // Every tab is back (the killed process's reconnected through the balancer) and round 3 is open.
    await until('round 3 open at every tab', async () => tabs.every((t) => t.opened.some((o) => o.round === 3)), 30_000);
    await until('every tab connected', async () => tabs.every((t) => t.socket.connected));
    const live = cluster.processes.filter((p) => p.running());
    const leader = await coordinator();
    const drained = live.find((p) => p.name === leader)!;
    await drained.kill('SIGTERM');
    await until('another coordinator after the drain', async () => {
      const now = await coordinator();
      return now && now !== drained.name ? now : null;
    });
    await until('every tab connected again', async () => tabs.every((t) => t.socket.connected));
    const before = tabs.map((t) => t.closed.length);
    for (const k of [0, 1, 2]) expect(await upload(k, 3, 2)).toBe(200);
    await roundClosed(3);
    await until('round 3 closed at every tab', async () => tabs.every((t) => t.closed.some((c) => c.round === 3)));
    // Give a duplicate the time to arrive, then count.
    await new Promise((r) => setTimeout(r, 500));
    for (const [k, tab] of tabs.entries()) {
      expect(tab.closed.filter((c) => c.round === 3), hospitals[k].id).toHaveLength(1);
      expect(tab.closed.length - before[k], hospitals[k].id).toBe(1);
    }
    expect(tabs.every((t) => t.closed.find((c) => c.round === 3)!.studyStatus === 'completed')).toBe(true);
    expect(errors.filter((e) => !/exited|kill/i.test(e))).toEqual([]);
  }, 120_000);
});
