import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AggregationReport } from '../../shared/fl/report';
import { binaryClinicalMetrics } from '../../shared/metrics/clinical';
import type { AuditPage } from '../../shared/protocol/accounts';
import type { VersionEvaluation, ModelVersionView } from '../../shared/protocol/models';
import type { RoundOpen } from '../../shared/protocol/schemas';
import { allHeartDemoHospitals, generateHeartRecords } from '../../shared/synthetic';
import { siteStatistics } from '../../shared/fl/normalisation';
import { heartRisk, heartRiskFeatures, weightShapes } from '../../shared/tasks';
import { decodeWeights, encodeWeights } from '../../shared/weights/codec';
import type { Database } from '../db/client';
import { refusedUpdates, rounds, sites } from '../db/schema';
import { createStudy, enrolSite } from '../studies/service';
import { testDatabaseTargets } from '../testing/databases';
import { connectSocket, emitAck, nextEvent, signIn, startServer, type ClientSocket, type RunningServer } from '../testing/harness';

/**
 * What the attacker did to a study on default settings, replayed: one hospital declaring 10^8
 * samples, one sending 3·10^38 everywhere, one forging a perfect evaluation of 10^8 records. On the
 * defaults, each is bounded: clipped, capped, refused, or flagged and left out of the pooled figures.
 */
const STUDY = 'defaults-test';
const shapes = weightShapes(heartRisk.model);
const HOSPITALS = allHeartDemoHospitals.slice(0, 4);
const HONEST_RECORDS = 200;

const filled = (v: number) => shapes.map(({ shape }) => new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v));
const small = (k: number) => shapes.map(({ shape }, t) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(k * 7 + t * 3 + i) * 0.01));
const flat = (ts: Float32Array[]) => ts.flatMap((t) => [...t]);

describe.each(testDatabaseTargets())('a study on its default settings, attacked ($name)', (target) => {
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

  const api = async (path: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, { ...init, headers: { ...admin, 'content-type': 'application/json', ...init.headers } });

  /** The study, its hospitals joined (the first reporting `firstRecords` training records) and round 1 open. */
  async function start(firstRecords: number): Promise<RoundOpen> {
    await target.reset(database);
    for (const h of HOSPITALS) await database.db.insert(sites).values({ id: h.id, name: h.name });
    await createStudy(database.db, { id: STUDY, name: 'Defaults', templateId: 'heart-risk', config: { minParticipants: HOSPITALS.length, rounds: 3 } });
    for (const h of HOSPITALS) await enrolSite(database.db, STUDY, h.id);
    server = await startServer(database);
    const { userId: _, ...headers } = await signIn(server);
    admin = headers;
    const opened: Promise<RoundOpen>[] = [];
    for (const [k, h] of HOSPITALS.entries()) {
      const s = await connectSocket(server.url, { token: await server.consilium.tokens.hospitalLink(h.id) });
      sockets.push(s);
      opened.push(nextEvent(s, 'round:open'));
      expect(await emitAck(s, 'hospital:join', { studyId: STUDY, numSamples: k === 0 ? firstRecords : HONEST_RECORDS, backend: 'cpu' })).toMatchObject({ ok: true });
    }
    for (const [k, s] of sockets.entries())
      expect(await emitAck(s, 'hospital:statistics', { studyId: STUDY, statistics: siteStatistics(heartRiskFeatures, generateHeartRecords(HOSPITALS[k])) })).toMatchObject({ ok: true });
    return (await Promise.all(opened))[0];
  }

  async function upload(k: number, round: number, baseVersion: number, numSamples: number, delta: Float32Array[]) {
    const body = encodeWeights({ kind: 'update', meta: { studyId: STUDY, round, baseVersion, numSamples, backend: 'cpu' }, tensors: delta.map((data, i) => ({ shape: shapes[i].shape, data })) });
    const res = await fetch(`${server.url}/api/studies/${STUDY}/rounds/${round}/updates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await server.consilium.tokens.hospitalLink(HOSPITALS[k].id)}`, 'content-type': 'application/octet-stream', 'idempotency-key': `key-${k}-round-${round}-n${numSamples}` },
      body,
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
  }

  async function model(version: number): Promise<number[]> {
    const res = await fetch(`${server.url}/api/studies/${STUDY}/models/${version}`, { headers: { authorization: `Bearer ${await server.consilium.tokens.hospitalLink(HOSPITALS[1].id)}` } });
    return flat(decodeWeights(new Uint8Array(await res.arrayBuffer())).tensors.map((t) => t.data));
  }

  it('clips and caps a hospital that declares 10^8 samples, then sends 3·10^38 everywhere; refuses declarations beyond the records reported', async () => {
    const open = await start(100_000_000);
    const [bounds] = await database.db.select({ b: rounds.bounds }).from(rounds);
    // Fixed at open: adaptive clipping from the template's start, the cap at twice the median reported count.
    expect(bounds.b).toMatchObject({ clipMode: 'adaptive', clipNorm: 2.5, sampleCap: 2 * HONEST_RECORDS });

    // An honest hospital declaring more than it reported is refused, with its reason, and nothing is stored.
    const over = await upload(1, 1, open.baseVersion, HONEST_RECORDS + 1, small(1));
    expect(over).toMatchObject({ status: 400, body: { error: { code: 'update_samples_exceeded', message: expect.stringMatching(/declares 201 samples, more than the 200 training records/) } } });
    expect((await database.db.select().from(refusedUpdates)).map((r) => r.code)).toEqual(['update_samples_exceeded']);

    const closed = nextEvent(sockets[1], 'round:closed');
    expect((await upload(0, 1, 0, 100_000_000, filled(0.5))).status).toBe(200);
    for (const k of [1, 2, 3]) expect((await upload(k, 1, 0, HONEST_RECORDS, small(k))).status).toBe(200);
    expect(await closed).toMatchObject({ round: 1, version: 1 });
    const [v0, v1] = [await model(0), await model(1)];
    // Undefended, every weight moved by +0.499998. Clipped to 2.5 (each value to 2.5/√P) and weighted as
    // 400 of 1000 samples, by that share of it, plus the honest sites' 0.01 at most.
    const moved = Math.max(...v1.map((w, i) => Math.abs(w - v0[i])));
    expect(moved).toBeLessThan((400 / 1000) * (2.5 / Math.sqrt(v0.length)) + 0.01);
    const [r1] = await database.db.select({ report: rounds.aggregationReport }).from(rounds).orderBy(rounds.number).limit(1);
    const attacker = (r1.report as AggregationReport).updates.find((u) => u.numSamples === 100_000_000)!;
    expect(attacker).toMatchObject({ clipped: true, capped: true });
    expect(attacker.weight).toBeCloseTo(400 / 1000, 12);

    // Round 2: 3·10^38 in every value, one sample declared: finite norm, clipped like any other.
    const next = nextEvent(sockets[1], 'round:closed');
    expect(await upload(0, 2, 1, 1, filled(3e38))).toMatchObject({ status: 200 });
    for (const k of [1, 2, 3]) expect((await upload(k, 2, 1, HONEST_RECORDS, small(k + 10))).status).toBe(200);
    expect(await next).toMatchObject({ round: 2, version: 2 });
    const v2 = await model(2);
    expect(v2.every(Number.isFinite)).toBe(true);
    expect(Math.max(...v2.map((w, i) => Math.abs(w - v1[i])))).toBeLessThan(2.5 / Math.sqrt(v0.length) + 0.01);

    // The record counts a site reports are audited when they change.
    await emitAck(sockets[2], 'hospital:join', { studyId: STUDY, numSamples: 180, backend: 'cpu' });
    await server.consilium.coordinator.settle();
    await expect.poll(async () => ((await (await api('/api/audit?action=site.records_reported')).json()) as AuditPage).events.map((e) => e.detail)).toContainEqual({ previous: 200, records: 180 });
  });

  it('refuses impossible evaluation reports, takes one per site and version, and pools without a forger until an admin includes it', async () => {
    await start(HONEST_RECORDS);
    const closed = nextEvent(sockets[1], 'round:closed');
    for (const k of [0, 1, 2, 3]) expect((await upload(k, 1, 0, HONEST_RECORDS, small(k))).status).toBe(200);
    await closed;

    // 40 validation records each: about 80 % right, as a trained model would be.
    const honest = (k: number) => {
      const labels = Array.from({ length: 40 }, (_, i) => (i % 2 ? 1 : 0));
      const probs = labels.map((y, i) => ((i + k) % 5 === 0 ? 1 - (0.6 + ((i * 7) % 30) / 100) : y ? 0.6 + ((i * 7) % 30) / 100 : 0.4 - ((i * 7) % 30) / 100));
      const m = binaryClinicalMetrics(probs, labels);
      return { studyId: STUDY, version: 1, loss: m.loss, accuracy: m.accuracy, numSamples: m.numSamples, backend: 'cpu' as const, clinical: m };
    };
    // The forgery: perfect figures over 10^8 records. 200 training records leave about 50 for validation.
    expect(await emitAck(sockets[0], 'hospital:evaluation', { studyId: STUDY, version: 1, loss: 0, accuracy: 1, numSamples: 100_000_000, backend: 'cpu' })).toMatchObject({
      ok: false,
      error: { code: 'implausible_report', message: expect.stringMatching(/counts 100000000 validation records; 200 training records, as this hospital reported, leave at most 5\d for validation/) },
    });
    // Perfect and self-consistent, over a count it could hold: accepted, then flagged against the others.
    const forged = honest(0);
    const perfect = binaryClinicalMetrics(Array.from({ length: 40 }, (_, i) => (i % 2 ? 0.999 : 0.001)), Array.from({ length: 40 }, (_, i) => (i % 2 ? 1 : 0)));
    expect(await emitAck(sockets[0], 'hospital:evaluation', { ...forged, loss: perfect.loss, accuracy: 1, clinical: perfect })).toMatchObject({ ok: true });
    for (const k of [1, 2, 3]) expect(await emitAck(sockets[k], 'hospital:evaluation', honest(k))).toMatchObject({ ok: true });
    // A retry of the same report is fine; another one for the same version is not.
    expect(await emitAck(sockets[1], 'hospital:evaluation', honest(1))).toMatchObject({ ok: true });
    expect(await emitAck(sockets[1], 'hospital:evaluation', { ...honest(1), loss: 0.1, clinical: { ...honest(1).clinical, loss: 0.1 } })).toMatchObject({
      ok: false,
      error: { code: 'conflict', message: expect.stringMatching(/already reported its evaluation of version 1/) },
    });

    const evaluation = async () => (await (await api(`/api/studies/${STUDY}/versions/1/evaluation`)).json()) as VersionEvaluation;
    const ev = await evaluation();
    const flagged = ev.sites.filter((s) => !s.pooled);
    expect(flagged).toHaveLength(1);
    expect(flagged[0]).toMatchObject({ numSamples: 40, includedBy: null, flag: expect.stringMatching(/deviations from the other sites' figures/) });
    expect(ev.global).toMatchObject({ numSamples: 120 });
    expect(ev.global!.accuracy).toBeLessThan(0.95);
    const versions = (await (await api(`/api/studies/${STUDY}/versions`)).json()) as ModelVersionView[];
    expect(versions.find((v) => v.version === 1)).toMatchObject({ reports: 3, flagged: 1, numSamples: 120 });

    // An admin looks, and counts it after all (and can take that back).
    const included = await api(`/api/studies/${STUDY}/versions/1/evaluations/${flagged[0].participantId}/include`, { method: 'POST' });
    expect(included.status).toBe(200);
    expect(((await included.json()) as VersionEvaluation).global).toMatchObject({ numSamples: 160 });
    expect((await evaluation()).sites.find((s) => s.participantId === flagged[0].participantId)).toMatchObject({ pooled: true, includedBy: expect.stringContaining('@') });
    expect((await api(`/api/studies/${STUDY}/versions/1/evaluations/${flagged[0].participantId}/include`, { method: 'DELETE' })).status).toBe(200);
    expect((await evaluation()).global).toMatchObject({ numSamples: 120 });
    expect((await api(`/api/studies/${STUDY}/versions/1/evaluations/nobody/include`, { method: 'POST' })).status).toBe(404);
    const audit = (await (await api('/api/audit')).json()) as AuditPage;
    expect(audit.events.map((e) => e.action)).toEqual(expect.arrayContaining(['evaluation.flagged', 'evaluation.included']));
  });
});
