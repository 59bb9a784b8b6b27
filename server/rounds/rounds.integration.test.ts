import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { exactFedAvg } from '../../shared/fl/fixedPoint';
import { combineStatistics, siteStatistics } from '../../shared/fl/normalisation';
import type { Dashboard, JoinResult, RoundOpen, StudyConfig } from '../../shared/protocol/schemas';
import { demoHospitals, generateHeartRecords } from '../../shared/synthetic';
import { heartRisk, heartRiskFeatures, parameterCount, weightShapes } from '../../shared/tasks';
import { evaluateModel, hospitalSplit, trainLocal } from '../../shared/training';
import { decodeWeights, encodeWeights } from '../../shared/weights/codec';
import type { Database } from '../db/client';
import { rounds, sites, updates } from '../db/schema';
import { createStudy, enrolSite } from '../studies/service';
import { testDatabaseTargets } from '../testing/databases';
import { connectSocket, emitAck, nextEvent, signIn, startServer, type ClientSocket, type RunningServer } from '../testing/harness';

const STUDY = 'heart-test';
const shapes = weightShapes(heartRisk.model);

/** A hand-made delta, different per hospital, so the expected aggregate is exact. */
function deltaFor(k: number): Float32Array[] {
  return shapes.map(({ shape }, t) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(k * 7 + t * 3 + i) * 0.01));
}

function updateBody(meta: Record<string, unknown>, delta: Float32Array[] = deltaFor(1)) {
  return encodeWeights({ kind: 'update', meta, tensors: delta.map((data, i) => ({ shape: shapes[i].shape, data })) });
}

describe.each(testDatabaseTargets())('a federated round over HTTP and Socket.IO ($name)', (target) => {
  let database: Database;
  let server: RunningServer;
  let sockets: ClientSocket[] = [];
  const hospitals = demoHospitals.map((h) => h.id);

  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await target.dispose(database);
  });

  async function setup(config: Partial<StudyConfig>) {
    await target.reset(database);
    for (const h of demoHospitals) await database.db.insert(sites).values({ id: h.id, name: h.name, demoProfile: h.id });
    await createStudy(database.db, { id: STUDY, name: 'Heart test', templateId: 'heart-risk', config: { minParticipants: 3, rounds: 2, ...config } });
    for (const h of hospitals) await enrolSite(database.db, STUDY, h);
    server = await startServer(database);
  }

  const tokenOf = (siteId: string) => server.consilium.tokens.hospitalLink(siteId);

  async function upload(siteId: string, round: number, body: Uint8Array<ArrayBuffer>, key: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${server.url}/api/studies/${STUDY}/rounds/${round}/updates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokenOf(siteId)}`, 'content-type': 'application/octet-stream', 'idempotency-key': key, ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  async function model(version: number, siteId = hospitals[0]) {
    const res = await fetch(`${server.url}/api/studies/${STUDY}/models/${version}`, { headers: { authorization: `Bearer ${await tokenOf(siteId)}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    return decodeWeights(new Uint8Array(await res.arrayBuffer())).tensors.map((t) => t.data);
  }

  /** Connect and join every hospital; resolves with each one's round:open. */
  async function joinAll(): Promise<RoundOpen[]> {
    const opens: Promise<RoundOpen>[] = [];
    for (const h of hospitals) {
      const s = await connectSocket(server.url, { token: await tokenOf(h) });
      sockets.push(s);
      opens.push(nextEvent(s, 'round:open'));
      const ack = await emitAck(s, 'hospital:join', { studyId: STUDY, numSamples: 200, backend: 'cpu' });
      expect(ack).toMatchObject({ ok: true, data: { statisticsNeeded: true } });
    }
    // Before the first round, every site sends its aggregate statistics.
    for (const [i, s] of sockets.entries()) {
      const statistics = siteStatistics(heartRiskFeatures, generateHeartRecords(demoHospitals[i]));
      expect(await emitAck(s, 'hospital:statistics', { studyId: STUDY, statistics })).toEqual({ ok: true, data: { accepted: true } });
    }
    return Promise.all(opens);
  }

  afterEach(async () => {
    for (const s of sockets) s.disconnect();
    sockets = [];
    await server?.stop();
  });

  it('makes the same model, bit for bit, whatever order the updates arrive in, one by one or all at once', async () => {
    const samples = [120, 80, 40];
    const meta = (i: number) => ({ studyId: STUDY, round: 1, baseVersion: 0, numSamples: samples[i], backend: 'cpu' });
    const digests: string[] = [];
    for (const order of [[0, 1, 2], [2, 0, 1], [1, 2, 0], 'together'] as const) {
      if (digests.length > 0) {
        for (const s of sockets) s.disconnect();
        sockets = [];
        await server.stop();
      }
      await setup({ roundDeadlineMs: 60_000, rounds: 1 });
      await joinAll();
      const closed = nextEvent(sockets[0], 'round:closed');
      const send = async (i: number) => expect((await upload(hospitals[i], 1, updateBody(meta(i), deltaFor(i)), `key-order-${i}`)).status).toBe(200);
      if (order === 'together') await Promise.all([0, 1, 2].map(send));
      else for (const i of order) await send(i);
      expect(await closed).toMatchObject({ round: 1, status: 'closed', version: 1, contributors: 3 });
      const res = await fetch(`${server.url}/api/studies/${STUDY}/models/1`, { headers: { authorization: `Bearer ${await tokenOf(hospitals[0])}` } });
      digests.push(createHash('sha256').update(new Uint8Array(await res.arrayBuffer())).digest('hex'));
      // The version is served by its content hash.
      expect(res.headers.get('etag')).toBe(`"${digests.at(-1)}"`);
    }
    expect(new Set(digests).size).toBe(1);
  });

  it('keeps disk flat over a 50-round study: payloads go once their version is written, the latest kept when asked', async () => {
    for (const keep of [0, 2]) {
      if (keep > 0) {
        for (const s of sockets) s.disconnect();
        sockets = [];
        await server.stop();
      }
      await setup({ roundDeadlineMs: 60_000, rounds: 50 });
      await server.stop();
      server = await startServer(database, { keepUpdateRounds: keep });
      await joinAll();
      const blobs = database.blobs;
      const before = new Set(await blobs.list());
      let versionBytes = 0;
      for (let round = 1; round <= 50; round++) {
        const closed = nextEvent(sockets[0], 'round:closed');
        const opened = round < 50 ? nextEvent(sockets[0], 'round:open') : null;
        await Promise.all(
          [0, 1, 2].map(async (i) => {
            const meta = { studyId: STUDY, round, baseVersion: round - 1, numSamples: 50 + i, backend: 'cpu' };
            expect((await upload(hospitals[i], round, updateBody(meta, deltaFor(1000 * (keep + 1) + i + 3 * round)), `keep-${keep}-${round}-${i}`)).status).toBe(200);
          }),
        );
        expect(await closed).toMatchObject({ round, status: 'closed', version: round });
        await opened;
        await server.consilium.coordinator.settle();
        if (round === 1) versionBytes = (await blobs.bytes()) - (await Promise.all([...before].map((h) => blobs.size(h)))).reduce<number>((a, b) => a + (b ?? 0), 0);
      }
      // Every round's payloads are gone but the latest `keep` rounds'; the versions stay.
      const kept = await database.db.select({ round: updates.roundId, deleted: updates.payloadDeletedAt }).from(updates);
      expect(kept).toHaveLength(150);
      expect(kept.filter((u) => u.deleted === null)).toHaveLength(3 * keep);
      const payloads = (await blobs.list()).filter((h) => !before.has(h));
      // 50 versions and 3 × keep payloads remain of what the study wrote.
      expect(payloads.length).toBe(50 + 3 * keep);
      expect(versionBytes).toBeGreaterThan(0);
      // Memory: no round's state outlives the round.
      expect(server.consilium.coordinator.openRounds()).toBe(1 - 1);
    }
  }, 120_000);

  it('aggregates three hospitals by FedAvg, refusing duplicates and bad bodies without changing the aggregate', async () => {
    await setup({ roundDeadlineMs: 60_000 });
    const opens = await joinAll();
    expect(opens.map((o) => [o.round, o.baseVersion])).toEqual([[1, 0], [1, 0], [1, 0]]);
    const global = await model(0);
    const samples = [120, 80, 40];
    const meta = (i: number) => ({ studyId: STUDY, round: 1, baseVersion: 0, numSamples: samples[i], backend: 'cpu' });
    const closed = nextEvent(sockets[0], 'round:closed');

    const first = await upload(hospitals[0], 1, updateBody(meta(0), deltaFor(0)), 'key-a-round-1');
    expect(first).toMatchObject({ status: 200, body: { accepted: true, duplicate: false, received: 1, expected: 3 } });

    // The same upload again (a retry): acknowledged, not counted twice.
    const retry = await upload(hospitals[0], 1, updateBody(meta(0), deltaFor(0)), 'key-a-round-1');
    expect(retry).toMatchObject({ status: 200, body: { accepted: true, duplicate: true, received: 1 } });

    // A second, different update from the same hospital for the same round.
    const other = await upload(hospitals[0], 1, updateBody(meta(0), deltaFor(9)), 'key-a-round-1-again');
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('duplicate_update');

    // Garbage, a wrong shape, a NaN, a stale base version, a missing key, no credentials.
    const garbage = await upload(hospitals[1], 1, new TextEncoder().encode('age,sex\n63,1\n'), 'key-b-garbage');
    expect(garbage.status).toBe(400);
    expect(garbage.body.error).toMatchObject({ code: 'malformed_update' });
    expect(garbage.body.error.message).toMatch(/malformed update: .+/);

    const wrongShape = encodeWeights({ kind: 'update', meta: meta(1), tensors: [{ shape: [3], data: new Float32Array(3) }] });
    expect((await upload(hospitals[1], 1, wrongShape, 'key-b-shape')).body.error.code).toBe('update_shape_mismatch');

    const nan = deltaFor(1);
    nan[2][5] = Number.NaN;
    const notFinite = await upload(hospitals[1], 1, updateBody(meta(1), nan), 'key-b-nan');
    expect(notFinite.status).toBe(400);
    expect(notFinite.body.error).toMatchObject({ code: 'update_not_finite' });

    const stale = await upload(hospitals[1], 1, updateBody({ ...meta(1), baseVersion: 3 }, deltaFor(1)), 'key-b-stale');
    expect(stale.body.error.code).toBe('wrong_base_version');

    const noKey = await fetch(`${server.url}/api/studies/${STUDY}/rounds/1/updates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokenOf(hospitals[1])}`, 'content-type': 'application/octet-stream' },
      body: updateBody(meta(1)),
    });
    expect(noKey.status).toBe(400);
    const anonymous = await fetch(`${server.url}/api/studies/${STUDY}/rounds/1/updates`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'idempotency-key': 'key-anonymous' },
      body: updateBody(meta(1)),
    });
    expect(anonymous.status).toBe(401);

    expect((await upload(hospitals[1], 1, updateBody(meta(1), deltaFor(1)), 'key-b-round-1')).status).toBe(200);
    const last = await upload(hospitals[2], 1, updateBody(meta(2), deltaFor(2)), 'key-c-round-1');
    expect(last.body).toMatchObject({ accepted: true, received: 3, expected: 3 });

    // Every sampled hospital reported: the round closes at once, long before its deadline.
    expect(await closed).toMatchObject({ round: 1, status: 'closed', version: 1, contributors: 3 });
    const participants = (await database.db.select().from(updates)).map((u) => u.participantId);
    expect(participants).toHaveLength(3);

    // The server sums exactly at the round's fixed-point scale, keyed and ordered by site id.
    const [opened] = await database.db.select({ bounds: rounds.bounds }).from(rounds);
    // These small deltas sit within the round's clipping bound and their counts within its cap: summed as sent.
    expect(opened.bounds).toMatchObject({ clipMode: 'adaptive', sampleCap: 400 });
    expect(opened.bounds!.clipNorm).toBeGreaterThan(Math.max(...[0, 1, 2].map((i) => Math.hypot(...deltaFor(i).flatMap((t) => [...t])))));
    const { scaleBits } = opened.bounds!;
    const expected = exactFedAvg(
      global,
      [0, 1, 2].map((i) => ({ participantId: hospitals[i], numSamples: samples[i], delta: deltaFor(i) })),
      scaleBits,
    );
    const v1 = await model(1);
    v1.forEach((t, i) => expect(Buffer.from(t.buffer, t.byteOffset, t.byteLength).equals(Buffer.from(expected[i].buffer))).toBe(true));

    // The retry of a closed round's update is still just acknowledged.
    expect((await upload(hospitals[0], 1, updateBody(meta(0), deltaFor(0)), 'key-a-round-1')).body.duplicate).toBe(true);

    // Every refusal by an enrolled hospital is kept with its reason for the admins, newest first.
    const { cookie } = await signIn(server, { email: 'admin@test.local' });
    const dash = (await (await fetch(`${server.url}/api/studies/${STUDY}/dashboard`, { headers: { cookie } })).json()) as Dashboard;
    expect(dash.refused.map((r) => r.code)).toEqual([
      'wrong_base_version',
      'update_not_finite',
      'update_shape_mismatch',
      'malformed_update',
      'duplicate_update',
    ]);
    expect(dash.refused.every((r) => r.round === 1 && r.reason.length > 10 && r.bytes > 0)).toBe(true);
    expect(dash.refused[1].reason).toMatch(/finite/);
  });

  it('closes at the deadline with the minimum and refuses a late update for the closed round', async () => {
    // All three are sampled; two updates are enough at the deadline.
    await setup({ roundDeadlineMs: 2_000, minParticipants: 3, minUpdates: 2 });
    await joinAll();
    const closed = nextEvent(sockets[0], 'round:closed');
    const meta = { studyId: STUDY, round: 1, baseVersion: 0, numSamples: 50, backend: 'cpu' };
    expect((await upload(hospitals[0], 1, updateBody(meta), 'key-a-deadline')).status).toBe(200);
    expect((await upload(hospitals[1], 1, updateBody(meta), 'key-b-deadline')).status).toBe(200);
    const nextOpen = nextEvent(sockets[2], 'round:open');
    expect(await closed).toMatchObject({ round: 1, status: 'closed', version: 1, contributors: 2 });
    const before = await model(1);

    const late = await upload(hospitals[2], 1, updateBody(meta), 'key-c-late');
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: 'round_not_open' });
    expect(late.body.error.message).toMatch(/round 1 is closed/);
    // Round 2 starts from version 1, and version 1 is what it was.
    expect(await nextOpen).toMatchObject({ round: 2, baseVersion: 1 });
    const after = await model(1);
    after.forEach((t, i) => expect(Buffer.from(t.buffer).equals(Buffer.from(before[i].buffer))).toBe(true));
  });

  it('abandons a round that misses its minimum at the deadline, and opens a new one from the same version', async () => {
    await setup({ roundDeadlineMs: 1_000, minParticipants: 3 });
    await joinAll();
    const closed = nextEvent(sockets[0], 'round:closed');
    const reopened = nextEvent(sockets[0], 'round:open');
    const meta = { studyId: STUDY, round: 1, baseVersion: 0, numSamples: 50, backend: 'cpu' };
    expect((await upload(hospitals[0], 1, updateBody(meta), 'key-a-abandon')).status).toBe(200);
    expect(await closed).toMatchObject({ round: 1, status: 'abandoned', version: null });
    expect(await reopened).toMatchObject({ round: 2, baseVersion: 0 });
    const all = await database.db.select().from(rounds);
    expect(all.map((r) => [r.number, r.status, r.closeReason])).toEqual([
      [1, 'abandoned', 'deadline_no_quorum'],
      [2, 'open', null],
    ]);
  });

  it('opens the first round only once every online site sent its statistics, combined into the pooled ones', async () => {
    await setup({ minParticipants: 3 });
    const records = demoHospitals.map((h) => generateHeartRecords(h));
    const joined: ClientSocket[] = [];
    for (const h of hospitals) {
      const s = await connectSocket(server.url, { token: await tokenOf(h) });
      sockets.push(s);
      joined.push(s);
      await emitAck(s, 'hospital:join', { studyId: STUDY });
    }
    const opened = nextEvent(joined[0], 'round:open');
    let roundOpened = false;
    void opened.then(() => (roundOpened = true), () => {});
    for (const [i, s] of joined.slice(0, 2).entries())
      await emitAck(s, 'hospital:statistics', { studyId: STUDY, statistics: siteStatistics(heartRiskFeatures, records[i]) });
    await server.consilium.coordinator.settle();
    expect(roundOpened).toBe(false);
    const tok = await tokenOf(hospitals[0]);
    const summary = async () =>
      (await (await fetch(`${server.url}/api/studies/${STUDY}`, { headers: { authorization: `Bearer ${tok}` } })).json()) as { normalisation: unknown; status: string };
    expect(await summary()).toMatchObject({ status: 'waiting', normalisation: null });

    // Implausible statistics are refused with a reason and change nothing.
    const bogus = { rows: 1, numeric: { age: { count: 5, sum: 1, sumSquares: 1 } }, categorical: {} };
    expect(await emitAck(joined[2], 'hospital:statistics', { studyId: STUDY, statistics: bogus })).toMatchObject({
      ok: false,
      error: { code: 'bad_request', message: expect.stringMatching(/age: 5 values in 1 rows/) },
    });

    await emitAck(joined[2], 'hospital:statistics', { studyId: STUDY, statistics: siteStatistics(heartRiskFeatures, records[2]) });
    const open = await opened;
    // Participants are ordered by id, not by hospital: the combination must not care.
    const expected = combineStatistics(heartRiskFeatures, records.map((r) => siteStatistics(heartRiskFeatures, r)));
    expect(open.normalisation!.rows).toBe(expected.rows);
    expect(open.normalisation!.modes).toEqual(expected.modes);
    for (const [name, n] of Object.entries(expected.numeric)) {
      expect(open.normalisation!.numeric[name].mean).toBeCloseTo(n.mean, 9);
      expect(open.normalisation!.numeric[name].std).toBeCloseTo(n.std, 9);
    }
    // Only the combined statistics are served, never a site's own.
    const served = JSON.stringify(await summary());
    expect(served).not.toMatch(/sumSquares|"sum"/);

    // Fixed from now on: a later report is stored for the admins' data view but not accepted: the normalisation stays.
    expect(await emitAck(joined[0], 'hospital:statistics', { studyId: STUDY, statistics: siteStatistics(heartRiskFeatures, records[2]) })).toEqual({
      ok: true,
      data: { accepted: false },
    });
    expect((await summary()).normalisation).toEqual(open.normalisation);
  });

  it('does not open a round until the minimum number of hospitals is online', async () => {
    await setup({ minParticipants: 3 });
    const s = await connectSocket(server.url, { token: await tokenOf(hospitals[0]) });
    sockets.push(s);
    const join = (await emitAck(s, 'hospital:join', { studyId: STUDY })) as { ok: true; data: JoinResult };
    expect(join.data.openRound).toBeNull();
    expect(join.data.study).toMatchObject({ id: STUDY, status: 'waiting', currentVersion: 0 });
    await server.consilium.coordinator.settle();
    const res = await fetch(`${server.url}/api/studies/${STUDY}`, { headers: { authorization: `Bearer ${await tokenOf(hospitals[0])}` } });
    expect(((await res.json()) as { status: string }).status).toBe('waiting');
  });

  it('runs a study to completion with scripted hospitals training on the shared TF.js core', async () => {
    await tf.setBackend('cpu');
    await setup({ rounds: 2, localEpochs: 1, roundDeadlineMs: 60_000 });
    const admin = await fetch(`${server.url}/api/auth/me`);
    expect(admin.status).toBe(401);

    const records = new Map(demoHospitals.map((h) => [h.id, generateHeartRecords(h)]));
    // Each site encodes with the study's global statistics, which arrive with the first round.
    const splitWith = (h: string, open: RoundOpen) => hospitalSplit(heartRisk, h, records.get(h)!, heartRisk.defaults, open.normalisation);
    let latest: RoundOpen | null = null;
    const data = new Map(demoHospitals.map((h) => [h.id, hospitalSplit(heartRisk, h.id, records.get(h.id)!)]));
    let evaluated = 0;
    let allEvaluated!: () => void;
    const done = new Promise<void>((resolve) => (allEvaluated = resolve));
    const onEvaluation = () => {
      if (++evaluated === hospitals.length * 2) allEvaluated();
    };

    for (const h of hospitals) {
      const token = await tokenOf(h);
      const s = await connectSocket(server.url, { token });
      sockets.push(s);
      const { train } = data.get(h)!;
      s.on('round:open', async (open) => {
        expect(open.normalisation).not.toBeNull();
        latest = open;
        const { train } = splitWith(h, open);
        const global = await model(open.baseVersion, h);
        const result = await trainLocal({
          spec: heartRisk.model,
          weights: global,
          data: train,
          epochs: open.training.localEpochs,
          batchSize: open.training.batchSize,
          learningRate: open.training.learningRate,
          seed: open.round,
        });
        const body = updateBody(
          { studyId: STUDY, round: open.round, baseVersion: open.baseVersion, numSamples: result.numSamples, backend: 'cpu', trainLoss: result.losses.at(-1) },
          result.delta,
        );
        await upload(h, open.round, body, `${h}-round-${open.round}`);
      });
      s.on('round:closed', async (closed) => {
        if (closed.version === null) return;
        const { validation } = splitWith(h, latest!);
        const ev = await evaluateModel(heartRisk.model, await model(closed.version, h), validation);
        const ack = await emitAck(s, 'hospital:evaluation', { studyId: STUDY, version: closed.version, ...ev, backend: 'cpu' });
        expect(ack.ok).toBe(true);
        onEvaluation();
      });
      const joined = (await emitAck(s, 'hospital:join', { studyId: STUDY, numSamples: train.n, backend: 'cpu' })) as { ok: true; data: JoinResult };
      if (joined.data.statisticsNeeded) {
        const statistics = siteStatistics(heartRiskFeatures, records.get(h)!);
        await emitAck(s, 'hospital:statistics', { studyId: STUDY, statistics });
      }
    }
    await done;

    // The admin sees the study completed, with sample-weighted federated metrics per round.
    const { password } = await import('../auth/accounts').then((m) => m.ensurePlatformAdmin(database.db, 'qa@consilium.test'));
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'qa@consilium.test', password }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    const dash = (await (await fetch(`${server.url}/api/studies/${STUDY}/dashboard`, { headers: { cookie } })).json()) as Dashboard;
    expect(dash.study).toMatchObject({ status: 'completed', completedRounds: 2, currentVersion: 2 });
    const perRound = dash.metrics.filter((m) => m.round !== null);
    expect(perRound.map((m) => m.round)).toEqual([1, 2]);
    const valN = [...data.values()].reduce((s, d) => s + d.validation.n, 0);
    for (const m of perRound) {
      expect(m.reports).toBe(3);
      expect(m.numSamples).toBe(valN);
      expect(m.accuracy).toBeGreaterThan(0.5);
    }
    expect(parameterCount(heartRisk.model)).toBeGreaterThan(0);
  });
});
