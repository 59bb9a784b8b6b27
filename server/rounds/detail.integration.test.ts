import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { siteStatistics } from '../../shared/fl/normalisation';
import type { RoundDetail } from '../../shared/protocol/roundDetail';
import type { RoundOpen } from '../../shared/protocol/schemas';
import { allHeartDemoHospitals, generateHeartRecords } from '../../shared/synthetic';
import { heartRisk, heartRiskFeatures, weightShapes } from '../../shared/tasks';
import { encodeWeights } from '../../shared/weights/codec';
import type { Database } from '../db/client';
import { sites } from '../db/schema';
import { createStudy, enrolSite, type CreateStudyInput } from '../studies/service';
import { testDatabaseTargets } from '../testing/databases';
import { connectSocket, emitAck, nextEvent, signIn, startServer, type ClientSocket, type RunningServer } from '../testing/harness';

/**
 * `GET /api/studies/:id/rounds/:round`: a round driven over Socket.IO and HTTP as hospitals drive
 * it, then read back as the admin console reads it.
 */
const STUDY = 'round-detail';
const shapes = weightShapes(heartRisk.model);
const PARAMETERS = shapes.reduce((n, { shape }) => n + shape.reduce((a, b) => a * b, 1), 0);
const HOSPITALS = allHeartDemoHospitals.slice(0, 3);
const RECORDS = [100, 200, 300];

/** An update whose every value is the same, of L2 norm `norm`. */
const ofNorm = (norm: number) => shapes.map(({ shape }) => new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(norm / Math.sqrt(PARAMETERS)));
/** A small update, distinct per `k` (norm well under 1). */
const small = (k: number) => shapes.map(({ shape }, t) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(k * 7 + t * 3 + i) * 0.001));
const ms = (iso: string | null) => (iso === null ? Number.NaN : Date.parse(iso));

describe.each(testDatabaseTargets())('a round in detail ($name)', (target) => {
  let database: Database;
  let server: RunningServer;
  let sockets: ClientSocket[] = [];
  let admin: Record<string, string>;

  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await target.dispose(database);
  });
  afterEach(async () => {
    for (const s of sockets) s.disconnect();
    sockets = [];
    await server?.stop();
  });

  const hospitalToken = (k: number) => server.consilium.tokens.hospitalLink(HOSPITALS[k].id);
  const detail = async (round: number | string) => fetch(`${server.url}/api/studies/${STUDY}/rounds/${round}`, { headers: admin });

  async function start(config: CreateStudyInput['config']): Promise<RoundOpen> {
    await target.reset(database);
    for (const h of HOSPITALS) await database.db.insert(sites).values({ id: h.id, name: h.name });
    await createStudy(database.db, { id: STUDY, name: 'Round detail', templateId: 'heart-risk', config: { minParticipants: HOSPITALS.length, rounds: 2, ...config } });
    for (const h of HOSPITALS) await enrolSite(database.db, STUDY, h.id);
    server = await startServer(database);
    const { userId: _, ...headers } = await signIn(server);
    admin = headers;
    const opened: Promise<RoundOpen>[] = [];
    for (const [k, h] of HOSPITALS.entries()) {
      const s = await connectSocket(server.url, { token: await hospitalToken(k) });
      sockets.push(s);
      opened.push(nextEvent(s, 'round:open'));
      expect(await emitAck(s, 'hospital:join', { studyId: STUDY, numSamples: RECORDS[k], backend: 'cpu' })).toMatchObject({ ok: true });
    }
    for (const [k, s] of sockets.entries())
      expect(await emitAck(s, 'hospital:statistics', { studyId: STUDY, statistics: siteStatistics(heartRiskFeatures, generateHeartRecords(HOSPITALS[k])) })).toMatchObject({ ok: true });
    return (await Promise.all(opened))[0];
  }

  /** Uploads as hospital `k`; the body's length is what the round's bytes in count. */
  async function upload(k: number, delta: Float32Array[], tag: string) {
    const body = encodeWeights({ kind: 'update', meta: { studyId: STUDY, round: 1, baseVersion: 0, numSamples: RECORDS[k], backend: 'cpu' }, tensors: delta.map((data, i) => ({ shape: shapes[i].shape, data })) });
    const res = await fetch(`${server.url}/api/studies/${STUDY}/rounds/1/updates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await hospitalToken(k)}`, 'content-type': 'application/octet-stream', 'idempotency-key': `upload-${k}-${tag}` },
      body,
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: string } }, bytes: body.byteLength };
  }

  async function download(k: number, version: number): Promise<number> {
    const res = await fetch(`${server.url}/api/studies/${STUDY}/models/${version}`, { headers: { authorization: `Bearer ${await hospitalToken(k)}` } });
    expect(res.status).toBe(200);
    return (await res.arrayBuffer()).byteLength;
  }

  it('gives the timeline in order, the bytes in and out, each norm against the bound with the clipped and the refused marked, and the weights', async () => {
    await start({ minUpdates: 2, clipping: { mode: 'fixed', norm: 1 }, maxUpdateNorm: 50 });
    const open = await detail(1);
    expect(open.status).toBe(200);
    expect((await open.json()) as RoundDetail).toMatchObject({ status: 'open', sampled: 3, needed: 2, bounds: { clipMode: 'fixed', clipNorm: 1, maxNorm: 50 }, updates: [], timeline: { firstUpdateAt: null, closedAt: null } });

    // Two sites fetch the base model; the third has it already (a 304 costs nothing).
    const v0 = await download(0, 0);
    await download(1, 0);

    const refused = await upload(2, ofNorm(100), 'too-long');
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'update_norm_exceeded' } } });
    const closed = nextEvent(sockets[0], 'round:closed');
    const sent = [await upload(0, small(0), 'a'), await upload(1, ofNorm(5), 'b'), await upload(2, small(2), 'c')];
    for (const s of sent) expect(s.status).toBe(200);
    expect(await closed).toMatchObject({ round: 1, version: 1 });
    await server.consilium.coordinator.settle();
    const v1 = await download(0, 1);

    const res = await detail(1);
    expect(res.status).toBe(200);
    const d = (await res.json()) as RoundDetail;
    expect(d).toMatchObject({ studyId: STUDY, round: 1, status: 'closed', closeReason: 'all_reported', baseVersion: 0, version: 1, strategy: 'fedavg', sampled: 3, needed: 2 });

    // The timeline: opened ≤ first update ≤ quorum (the second on-time update) ≤ last ≤ aggregation ≤ closed = published.
    const t = d.timeline;
    const order = [t.openedAt, t.firstUpdateAt, t.quorumAt, t.lastUpdateAt, t.aggregationStartedAt, t.closedAt, t.publishedAt].map(ms);
    expect(order.every(Number.isFinite)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(t.publishedAt).toBe(t.closedAt);
    const arrivals = d.updates.map((u) => ms(u.receivedAt)).sort((a, b) => a - b);
    expect(ms(t.quorumAt)).toBe(arrivals[1]);
    expect(ms(t.firstUpdateAt)).toBe(arrivals[0]);
    expect(ms(t.lastUpdateAt)).toBe(arrivals[2]);

    // Bytes in: every accepted payload as uploaded, and the refused upload as read.
    const acceptedBytes = sent.reduce((s, u) => s + u.bytes, 0);
    expect(d.bytesIn).toEqual({ accepted: acceptedBytes, acceptedUpdates: 3, refused: refused.bytes, refusedUploads: 1, total: acceptedBytes + refused.bytes });
    expect(d.updates.map((u) => u.bytes)).toEqual(sent.map((s) => s.bytes));
    // Bytes out: the model route's downloads of the base version and of the version the round wrote.
    expect(d.bytesOut.base).toEqual({ version: 0, downloads: 2, bytes: 2 * v0 });
    expect(d.bytesOut.result).toEqual({ version: 1, downloads: 1, bytes: v1 });

    // Each update's norm against the bound: the long one clipped to it, the others as sent; weights by samples.
    expect(d.updates.map((u) => u.siteName)).toEqual(HOSPITALS.map((h) => h.name));
    const [a, b, c] = d.updates;
    expect(b).toMatchObject({ clipped: true, selected: true, lateBy: 0, numSamples: 200 });
    expect(b.norm).toBeCloseTo(5, 3);
    expect(b.scale).toBeCloseTo(1 / 5, 3);
    for (const u of [a, c]) {
      expect(u).toMatchObject({ clipped: false, scale: 1, selected: true, score: null });
      expect(u.norm).toBeLessThan(1);
    }
    d.updates.forEach((u, k) => expect(u.weight).toBeCloseTo(RECORDS[k] / 600, 12));
    expect(d.updates.every((u) => u.distance !== null)).toBe(true);

    // The refused upload, with its code, reason, bytes and the norm it was refused for.
    expect(d.refused).toHaveLength(1);
    expect(d.refused[0]).toMatchObject({ siteName: HOSPITALS[2].name, code: 'update_norm_exceeded', bytes: refused.bytes, reason: expect.stringMatching(/exceeds the study's bound of 50/) });
    expect(d.refused[0].norm).toBeCloseTo(100, 1);

    expect((await detail(9)).status).toBe(404);
    const bad = await detail('1e3');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/path parameter round/);
    const asHospital = await fetch(`${server.url}/api/studies/${STUDY}/rounds/1`, { headers: { authorization: `Bearer ${await hospitalToken(0)}` } });
    expect(asHospital.status).toBe(403);
  });

  it("shows Krum's selection and scores", async () => {
    await start({ strategy: { name: 'krum', options: { byzantine: 0, normBound: null } }, clipping: { mode: 'none' } });
    const closed = nextEvent(sockets[0], 'round:closed');
    // Two close together and one far off: Krum picks one of the close pair.
    expect((await upload(0, small(0), 'a')).status).toBe(200);
    expect((await upload(1, small(0).map((t) => t.map((v) => v * 1.01)), 'b')).status).toBe(200);
    expect((await upload(2, ofNorm(20), 'c')).status).toBe(200);
    expect(await closed).toMatchObject({ round: 1, version: 1 });
    const d = (await (await detail(1)).json()) as RoundDetail;
    expect(d).toMatchObject({ strategy: 'krum', bounds: { clipMode: 'none', clipNorm: null } });
    expect(d.updates.map((u) => u.selected)).toEqual([true, false, false]);
    expect(d.updates.map((u) => u.weight)).toEqual([1, 0, 0]);
    expect(d.updates.every((u) => typeof u.score === 'number' && !u.clipped)).toBe(true);
    expect(d.updates[2].score!).toBeGreaterThan(d.updates[0].score!);
  });
});
