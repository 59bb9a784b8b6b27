import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { siteStatistics } from '../../shared/fl/normalisation';
import type { JoinResult, RoundClosed, RoundOpen, StudyConfigPatchInput, StudySummary } from '../../shared/protocol/schemas';
import type { ConfigChangeResult, ConfigChangeView, SiteView, TemplateView } from '../../shared/protocol/studyAdmin';
import { demoHospitals, generateHeartRecords } from '../../shared/synthetic';
import { heartRisk, heartRiskFeatures, weightShapes } from '../../shared/tasks';
import { encodeWeights } from '../../shared/weights/codec';
import type { Database } from '../db/client';
import { rounds, sites, studyConfigChanges } from '../db/schema';
import { sampleParticipants } from '../rounds/sampling';
import { testDatabaseTargets } from '../testing/databases';
import { connectSocket, emitAck, signIn, startServer, type ClientSocket, type RunningServer } from '../testing/harness';

const ADMIN = 'admin@test.local';
const SITES = ['site-a', 'site-b', 'site-c', 'site-d', 'site-e'];
const shapes = weightShapes(heartRisk.model);
const records = demoHospitals.map((h) => generateHeartRecords(h));
const statisticsOf = (i: number) => siteStatistics(heartRiskFeatures, records[i % records.length]);

function updateBody(studyId: string, round: number, baseVersion: number) {
  const meta = { studyId, round, baseVersion, numSamples: 50, backend: 'cpu' };
  return encodeWeights({ kind: 'update', meta, tensors: shapes.map(({ shape }) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.001) })) });
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Hospital {
  siteId: string;
  socket: ClientSocket;
  participantId: string;
  opens: RoundOpen[];
  closes: RoundClosed[];
}

describe.each(testDatabaseTargets())('study administration by a platform admin ($name)', (target) => {
  let database: Database;
  let server: RunningServer;
  let admin: Record<string, string>;
  let hospitals: Hospital[] = [];

  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await target.dispose(database);
  });
  beforeEach(async () => {
    await target.reset(database);
    for (const [i, id] of SITES.entries()) await database.db.insert(sites).values({ id, name: `Hospital ${'ABCDE'[i]}` });
    server = await startServer(database);
    admin = await signIn(server, { email: ADMIN });
  });
  afterEach(async () => {
    for (const h of hospitals) h.socket.disconnect();
    hospitals = [];
    await server.stop();
  });

  async function api<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = admin): Promise<{ status: number; body: T }> {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async function create(id: string, config: StudyConfigPatchInput, siteIds: string[] = SITES.slice(0, 2)) {
    const res = await api<StudySummary>('POST', '/api/studies', { id, name: `Study ${id}`, templateId: 'heart-risk', config, siteIds });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  /** Connect, join and send statistics for each site; every socket records its round events. */
  async function join(studyId: string, siteIds: string[]): Promise<Hospital[]> {
    const joined: Hospital[] = [];
    for (const siteId of siteIds) {
      const socket = await connectSocket(server.url, { token: await server.consilium.tokens.hospitalLink(siteId) });
      const h: Hospital = { siteId, socket, participantId: '', opens: [], closes: [] };
      socket.on('round:open', (o) => h.opens.push(o));
      socket.on('round:closed', (c) => h.closes.push(c));
      const ack = (await emitAck(socket, 'hospital:join', { studyId, numSamples: 100, backend: 'cpu' })) as { ok: true; data: JoinResult };
      expect(ack.ok).toBe(true);
      h.participantId = ack.data.participantId;
      hospitals.push(h);
      joined.push(h);
    }
    for (const h of joined) await emitAck(h.socket, 'hospital:statistics', { studyId, statistics: statisticsOf(SITES.indexOf(h.siteId)) });
    await server.consilium.coordinator.settle();
    return joined;
  }

  async function upload(studyId: string, siteId: string, round: number, baseVersion = 0) {
    const res = await fetch(`${server.url}/api/studies/${studyId}/rounds/${round}/updates`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await server.consilium.tokens.hospitalLink(siteId)}`,
        'content-type': 'application/octet-stream',
        'idempotency-key': `${siteId}-${round}`,
      },
      body: updateBody(studyId, round, baseVersion),
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  const roundRows = async (studyId: string) =>
    (await database.db.select().from(rounds)).filter((r) => r.studyId === studyId).sort((a, b) => a.number - b.number);
  const summary = async (id: string) => (await api<StudySummary>('GET', `/api/studies/${id}`)).body;

  it('answers 401 signed out and 403 to a hospital on every admin endpoint', async () => {
    await create('auth-study', {});
    const hospital = { authorization: `Bearer ${await server.consilium.tokens.hospitalLink(SITES[0])}` };
    const calls: [string, string, unknown?][] = [
      ['POST', '/api/studies', { id: 'x-study', name: 'X', templateId: 'heart-risk' }],
      ['GET', '/api/sites'],
      ['GET', '/api/templates'],
      ['POST', '/api/studies/auth-study/participants', { siteId: SITES[3] }],
      ['PATCH', '/api/studies/auth-study/config', { localEpochs: 3 }],
      ['GET', '/api/studies/auth-study/config-changes'],
      ['POST', '/api/studies/auth-study/pause'],
      ['POST', '/api/studies/auth-study/resume'],
      ['POST', '/api/studies/auth-study/stop'],
    ];
    for (const [method, path, body] of calls) {
      expect((await api(method, path, body, {})).status, `${method} ${path} signed out`).toBe(401);
      const forbidden = await api(method, path, body, hospital);
      expect(forbidden.status, `${method} ${path} as a hospital`).toBe(403);
      expect(forbidden.body.error.code).toBe('forbidden');
    }
    // None of it changed anything.
    expect(await summary('auth-study')).toMatchObject({ status: 'waiting', config: { localEpochs: 2 } });
    expect((await api('GET', '/api/studies/x-study')).status).toBe(404);
  });

  it('creates a study from a template with every default filled in, enrols its sites, and refuses bad input clearly', async () => {
    const templates = (await api<TemplateView[]>('GET', '/api/templates')).body;
    const heart = templates.find((t) => t.id === 'heart-risk')!;
    expect(heart).toMatchObject({ name: heartRisk.name, taskKind: 'binary', input: 'tabular', defaultConfig: { optimizer: heartRisk.model.optimizer, minUpdates: heartRisk.defaults.minParticipants } });
    expect(templates.find((t) => t.id === 'hcv-stage')?.taskKind).toBe('multiclass');
    // Each template's newest version first, the earlier one kept for the studies made with it.
    expect(templates.map((t) => [t.id, t.version, t.latest])).toEqual([
      ['heart-risk@2', 2, true],
      ['heart-risk', 1, false],
      ['hcv-stage@2', 2, true],
      ['hcv-stage', 1, false],
      ['lesion-images', 1, true],
      ['lesion-images@2', 2, true],
    ]);
    // The residual network is offered beside the small CNN, not after it: new studies start on the CNN.
    expect(templates.find((t) => t.id === 'lesion-images@2')?.alternative).toMatch(/GPU/);
    // The residual network's size shows before a study is made with it.
    expect(templates.find((t) => t.id === 'lesion-images@2')?.parameters).toBe(700_001);
    expect(templates[0].changes).toMatch(/missing indicator/);
    expect(templates[0].parameters).toBe(35 * 16 + 16 + 17);

    const bad = async (body: Record<string, unknown>, message: RegExp) => {
      const res = await api('POST', '/api/studies', { id: 'bad-study', name: 'Bad', templateId: 'heart-risk', ...body });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.code).toBe('bad_request');
      expect(res.body.error.message).toMatch(message);
    };
    await bad({ config: { minParticipants: 3, minUpdates: 4 } }, /config\.minUpdates: minUpdates \(4\) cannot exceed minParticipants \(3\)/);
    await bad({ config: { participantFraction: 0 } }, /config\.participantFraction: participantFraction must be above 0/);
    await bad({ config: { participantFraction: 1.5 } }, /participantFraction is at most 1/);
    await bad({ config: { straggler: { policy: 'accept-late', maxStaleness: 2, weight: 0 } } }, /config\.straggler\.weight: a late update needs a weight above 0/);
    await bad({ config: { rounds: 5, straggler: { policy: 'accept-late', maxStaleness: 5, weight: 0.5 } } }, /maxStaleness \(5\) must be below rounds \(5\)/);
    await bad({ config: { rounds: 4, evaluateEvery: 5 } }, /evaluateEvery \(5\) exceeds rounds \(4\)/);
    await bad({ config: { strategy: { name: 'fedmagic', options: {} } } }, /config\.strategy/);
    await bad({ config: { minParticipants: 3, strategy: { name: 'krum', options: { byzantine: 1 } } } }, /krum strategy needs at least 5 updates per round; minUpdates is 3/);
    await bad({ config: { strategy: { name: 'fedprox', options: { mu: 0.1 } }, fedProxMu: 0.2 } }, /fedProxMu \(0\.2\) differs from the fedprox strategy's mu \(0\.1\)/);
    await bad({ config: { normBoundFactor: 0 } }, /normBoundFactor must be above 0/);
    await bad({ config: { strategy: { name: 'trimmed-mean', options: { trimFraction: 0.7 } } } }, /config\.strategy\.options\.trimFraction: .*0\.5/);
    await bad({ config: { minParticipant: 2 } }, /config: Unrecognized key.*minParticipant/);
    await bad({ templateId: 'no-such-template' }, /unknown study template 'no-such-template'/);
    await bad({ id: 'Bad Study!' }, /id: study ids are lower-case letters, digits and dashes/);
    await bad({ name: '  ' }, /name: name the study/);
    await bad({ siteIds: [SITES[0], 'nowhere'] }, /siteIds: no site 'nowhere'/);
    // A refused request leaves no trace.
    expect((await api('GET', '/api/studies/bad-study')).status).toBe(404);

    const study = await create('heart-admin', { rounds: 4, minParticipants: 2, participantFraction: 0.5, strategy: { name: 'fedprox', options: { mu: 0.05 } } }, [SITES[0], SITES[2]]);
    expect(study).toMatchObject({ id: 'heart-admin', templateId: 'heart-risk', status: 'waiting', currentVersion: 0, completedRounds: 0 });
    expect(study.config).toEqual({
      ...heartRisk.defaults,
      rounds: 4,
      minParticipants: 2,
      minUpdates: 2,
      participantFraction: 0.5,
      optimizer: 'adam',
      straggler: { policy: 'drop' },
      evaluateEvery: 1,
      strategy: { name: 'fedprox', options: { mu: 0.05, normBound: null } },
      normBoundFactor: null,
      fedProxMu: 0.05,
    });
    // Version 0 exists, made from the seeded initial weights.
    const v0 = await fetch(`${server.url}/api/studies/heart-admin/models/0`, { headers: admin });
    expect(v0.status).toBe(200);
    const siteList = (await api<SiteView[]>('GET', '/api/sites')).body;
    expect(siteList.map((s) => [s.id, s.studyIds])).toEqual(SITES.map((id) => [id, id === SITES[0] || id === SITES[2] ? ['heart-admin'] : []]));

    const again = await api('POST', '/api/studies', { id: 'heart-admin', name: 'Again', templateId: 'heart-risk' });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toBe("a study with id 'heart-admin' already exists");
  });

  it('enrols a site once, after which the hospital sees the study', async () => {
    await create('enrol-study', {}, []);
    const token = { authorization: `Bearer ${await server.consilium.tokens.hospitalLink(SITES[1])}` };
    expect((await api('GET', '/api/studies/enrol-study', undefined, token)).status).toBe(403);
    const first = await api('POST', '/api/studies/enrol-study/participants', { siteId: SITES[1] });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ siteId: SITES[1], siteName: 'Hospital B', created: true });
    const second = await api('POST', '/api/studies/enrol-study/participants', { siteId: SITES[1] });
    expect(second).toMatchObject({ status: 200, body: { participantId: first.body.participantId, created: false } });
    expect((await api('GET', '/api/studies/enrol-study', undefined, token)).status).toBe(200);
    expect((await api('POST', '/api/studies/enrol-study/participants', { siteId: 'nowhere' })).body.error.message).toBe("siteId: no site 'nowhere'");
    expect((await api('POST', '/api/studies/no-study/participants', { siteId: SITES[1] })).status).toBe(404);
    expect((await api('POST', '/api/studies/enrol-study/participants', {})).status).toBe(400);
  });

  it('pauses: the open round finishes, no new one opens; resume opens the next round', async () => {
    await create('pause-study', { rounds: 3, minParticipants: 2, roundDeadlineMs: 60_000 });
    const joined = await join('pause-study', SITES.slice(0, 2));
    await until('round 1 to open', () => joined.every((h) => h.opens.length === 1));
    expect(joined.map((h) => h.opens.map((o) => o.round))).toEqual([[1], [1]]);

    const paused = await api<StudySummary>('POST', '/api/studies/pause-study/pause');
    expect(paused).toMatchObject({ status: 200, body: { status: 'paused' } });
    expect((await api('POST', '/api/studies/pause-study/pause')).body.error.message).toBe(
      "study 'pause-study' is paused; only a waiting or running study can be paused",
    );

    // The round in progress is not interrupted.
    for (const h of joined) expect((await upload('pause-study', h.siteId, 1)).status).toBe(200);
    await until('round 1 to close', () => joined[0].closes.length === 1);
    expect(joined[0].closes[0]).toMatchObject({ round: 1, status: 'closed', version: 1, studyStatus: 'paused' });
    await server.consilium.coordinator.maybeOpenRound('pause-study');
    await server.consilium.coordinator.settle();
    expect((await roundRows('pause-study')).map((r) => [r.number, r.status])).toEqual([[1, 'closed']]);
    expect(await summary('pause-study')).toMatchObject({ status: 'paused', completedRounds: 1 });
    expect(joined[0].opens).toHaveLength(1);

    const resumed = await api<StudySummary>('POST', '/api/studies/pause-study/resume');
    expect(resumed).toMatchObject({ status: 200, body: { status: 'running' } });
    await until('round 2 to open', () => joined.every((h) => h.opens.length === 2));
    expect(joined[0].opens[1]).toMatchObject({ round: 2, baseVersion: 1 });
    expect((await api('POST', '/api/studies/pause-study/resume')).status).toBe(409);
  });

  it('restarts from an earlier version: the open round is abandoned and the next trains from that version', async () => {
    await create('restart-study', { rounds: 4, minParticipants: 2, roundDeadlineMs: 60_000 });
    const joined = await join('restart-study', SITES.slice(0, 2));
    await until('round 1 to open', () => joined.every((h) => h.opens.length === 1));
    for (const h of joined) expect((await upload('restart-study', h.siteId, 1)).status).toBe(200);
    await until('round 2 to open', () => joined.every((h) => h.opens.length === 2));
    expect(joined[0].opens[1]).toMatchObject({ round: 2, baseVersion: 1 });

    expect((await api('POST', '/api/studies/restart-study/restart', { fromVersion: 7 })).status).toBe(404);
    expect((await api('POST', '/api/studies/restart-study/restart', { fromVersion: -1 })).status).toBe(400);
    expect((await api('POST', '/api/studies/restart-study/restart', { fromVersion: 0 }, { authorization: `Bearer ${await server.consilium.tokens.hospitalLink(SITES[0])}` })).status).toBe(403);
    const restarted = await api<StudySummary>('POST', '/api/studies/restart-study/restart', { fromVersion: 0 });
    expect(restarted).toMatchObject({ status: 200, body: { currentVersion: 0 } });
    await until('round 3 to open', () => joined.every((h) => h.opens.length === 3));
    expect(joined[0].closes.at(-1)).toMatchObject({ round: 2, status: 'abandoned' });
    expect(joined[0].opens[2]).toMatchObject({ round: 3, baseVersion: 0 });
    for (const h of joined) expect((await upload('restart-study', h.siteId, 3, 0)).status).toBe(200);
    await until('round 3 to close', () => joined[0].closes.some((c) => c.round === 3));
    const versions = (await api<{ version: number; parentVersion: number | null; round: number | null }[]>('GET', '/api/studies/restart-study/versions')).body;
    expect(versions.map((v) => [v.version, v.parentVersion, v.round])).toEqual([
      [0, null, null],
      [1, 0, 1],
      [2, 0, 3],
    ]);
  });

  it('takes a straggler late into the next round, down-weighted, once, when the study accepts late updates', async () => {
    const straggler = { policy: 'accept-late', maxStaleness: 1, weight: 0.5 } as const;
    await create('late-study', { rounds: 3, minParticipants: 3, minUpdates: 2, roundDeadlineMs: 1_500, straggler }, SITES.slice(0, 3));
    const joined = await join('late-study', SITES.slice(0, 3));
    await until('round 1 to open', () => joined.every((h) => h.opens.length === 1));
    for (const h of joined.slice(0, 2)) expect((await upload('late-study', h.siteId, 1)).status).toBe(200);
    await until('round 2 to open after the deadline', () => joined.every((h) => h.opens.length === 2));
    expect(joined[0].closes[0]).toMatchObject({ round: 1, status: 'closed', contributors: 2 });

    // The third site finishes round 1 late: its update joins round 2 at half weight.
    const late = await upload('late-study', SITES[2], 1);
    expect(late).toMatchObject({ status: 200, body: { round: 2, lateBy: 1, duplicate: false, received: 0 } });
    expect((await upload('late-study', SITES[2], 1)).body).toMatchObject({ duplicate: true, round: 2 });
    for (const h of joined) expect((await upload('late-study', h.siteId, 2, 1)).status).toBe(200);
    await until('round 2 to close', () => joined[0].closes.length === 2);
    expect(joined[0].closes[1]).toMatchObject({ round: 2, status: 'closed', contributors: 4 });
    const [r2] = (await roundRows('late-study')).filter((r) => r.number === 2);
    expect(r2.aggregationReport?.updates).toHaveLength(4);
    expect(r2.aggregationReport?.updates.find((u) => u.participantId === `${SITES[2]}~late1`)?.weight).toBeCloseTo(25 / 175, 10);
  });

  it('refuses an update above the norm limit, clips by factor to the previous round median norm, and evaluates every Nth version and the last', async () => {
    const params = shapes.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
    const normal = 0.001 * Math.sqrt(params);
    await create('norm-study', { rounds: 3, minParticipants: 2, roundDeadlineMs: 60_000, evaluateEvery: 2, maxUpdateNorm: normal * 2, normBoundFactor: 1.5 });
    const joined = await join('norm-study', SITES.slice(0, 2));
    await until('round 1 to open', () => joined.every((h) => h.opens.length === 1));
    const big = encodeWeights({
      kind: 'update',
      meta: { studyId: 'norm-study', round: 1, baseVersion: 0, numSamples: 50, backend: 'cpu' },
      tensors: shapes.map(({ shape }) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.01) })),
    });
    const refused = await fetch(`${server.url}/api/studies/norm-study/rounds/1/updates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await server.consilium.tokens.hospitalLink(SITES[0])}`, 'content-type': 'application/octet-stream', 'idempotency-key': 'too-big-1' },
      body: big,
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'update_norm_exceeded', message: expect.stringMatching(/L2 norm .* exceeds the study's bound/) });
    for (let round = 1; round <= 3; round++) {
      // Clients upload once told the round is open (the close is announced before the next round opens).
      await until(`round ${round} to open`, () => joined.every((h) => h.opens.length === round));
      for (const h of joined) expect((await upload('norm-study', h.siteId, round, round - 1)).status).toBe(200);
      await until(`round ${round} to close`, () => joined[0].closes.length === round);
    }
    expect(joined[0].closes.map((c) => [c.round, c.evaluate])).toEqual([
      [1, false],
      [2, true],
      [3, true],
    ]);
    const report = (await roundRows('norm-study'))[0].aggregationReport;
    expect(report?.updates.every((u) => u.clipped === false)).toBe(true);
  });

  it('stops: the open round is abandoned and no round opens again, whatever is asked', async () => {
    await create('stop-study', { rounds: 3, minParticipants: 2, roundDeadlineMs: 60_000 });
    const joined = await join('stop-study', SITES.slice(0, 2));
    expect((await upload('stop-study', joined[0].siteId, 1)).status).toBe(200);

    const stopped = await api<StudySummary>('POST', '/api/studies/stop-study/stop');
    expect(stopped).toMatchObject({ status: 200, body: { status: 'stopped', completedRounds: 0, currentVersion: 0 } });
    await until('the abandonment to reach the hospitals', () => joined.every((h) => h.closes.length === 1));
    expect(joined[1].closes[0]).toMatchObject({ round: 1, status: 'abandoned', version: null, studyStatus: 'stopped' });
    expect((await roundRows('stop-study')).map((r) => [r.number, r.status, r.closeReason])).toEqual([[1, 'abandoned', 'stopped']]);

    const late = await upload('stop-study', joined[1].siteId, 1);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('round_not_open');
    for (const action of ['resume', 'pause', 'stop']) expect((await api('POST', `/api/studies/stop-study/${action}`)).status, action).toBe(409);
    const reconfigure = await api('PATCH', '/api/studies/stop-study/config', { rounds: 9 });
    expect(reconfigure.status).toBe(409);
    expect(reconfigure.body.error.message).toMatch(/stopped; its configuration is final/);

    // Sites coming back online change nothing.
    for (const h of joined) h.socket.disconnect();
    hospitals = [];
    await join('stop-study', SITES.slice(0, 2));
    await server.consilium.coordinator.maybeOpenRound('stop-study');
    await server.consilium.coordinator.settle();
    expect(await roundRows('stop-study')).toHaveLength(1);
    expect((await summary('stop-study')).status).toBe('stopped');
  });

  it('records a configuration change with who and from which round; the open round keeps its own configuration', async () => {
    await create('config-study', { rounds: 5, minParticipants: 2, roundDeadlineMs: 60_000 });
    const joined = await join('config-study', SITES.slice(0, 2));
    await until('round 1 to open', () => joined.every((h) => h.opens.length === 1));
    expect(joined[0].opens[0].training).toMatchObject({ localEpochs: 2, learningRate: 0.01, optimizer: 'adam' });

    const res = await api<ConfigChangeResult>('PATCH', '/api/studies/config-study/config', { localEpochs: 5, learningRate: 0.02, minUpdates: 1 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const change = res.body.change!;
    expect(change).toMatchObject({ changedBy: ADMIN, effectiveFromRound: 2, changed: ['learningRate', 'localEpochs', 'minUpdates'] });
    expect(change.before).toMatchObject({ localEpochs: 2, learningRate: 0.01, minUpdates: 2 });
    expect(change.after).toMatchObject({ localEpochs: 5, learningRate: 0.02, minUpdates: 1 });
    expect(Date.now() - Date.parse(change.changedAt)).toBeLessThan(60_000);
    expect(res.body.study.config).toMatchObject({ localEpochs: 5, minUpdates: 1 });

    // Round 1 still runs as it opened: a hospital rejoining gets the old settings.
    const [round1] = await roundRows('config-study');
    expect(round1.config).toMatchObject({ localEpochs: 2, learningRate: 0.01, minUpdates: 2 });
    const rejoin = (await emitAck(joined[1].socket, 'hospital:join', { studyId: 'config-study' })) as { ok: true; data: JoinResult };
    expect(rejoin.data.openRound).toMatchObject({ round: 1, training: { localEpochs: 2, learningRate: 0.01 } });

    // Refused changes: clear messages, nothing stored or recorded.
    const refuse = async (patch: Record<string, unknown>, message: RegExp) => {
      const r = await api('PATCH', '/api/studies/config-study/config', patch);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error.message).toMatch(message);
    };
    await refuse({ minUpdates: 3 }, /config\.minUpdates: minUpdates \(3\) cannot exceed minParticipants \(2\)/);
    await refuse({ seed: 1 }, /config\.seed: fixed once a study exists/);
    await refuse({ validationFraction: 0.3 }, /config\.validationFraction: fixed once a study exists/);
    await refuse({ rounds: 0 }, /rounds/);
    await refuse({ strategy: { name: 'fedyogi', options: { beta2: 1 } } }, /^strategy\.options\.beta2: .*<1/);
    await refuse({ localEpoch: 3 }, /Unrecognized key.*localEpoch/);
    // The same values again: nothing to record.
    expect((await api<ConfigChangeResult>('PATCH', '/api/studies/config-study/config', { localEpochs: 5 })).body.change).toBeNull();
    expect(await database.db.select().from(studyConfigChanges)).toHaveLength(1);

    // Round 1 closes; round 2 opens with the new settings.
    for (const h of joined) expect((await upload('config-study', h.siteId, 1)).status).toBe(200);
    await until('round 2 to open', () => joined.every((h) => h.opens.length === 2));
    expect(joined[0].opens[1]).toMatchObject({ round: 2, training: { localEpochs: 5, learningRate: 0.02 } });

    const history = (await api<ConfigChangeView[]>('GET', '/api/studies/config-study/config-changes')).body;
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ changedBy: ADMIN, effectiveFromRound: 2, changed: ['learningRate', 'localEpochs', 'minUpdates'] });
    expect((await api('GET', '/api/studies/no-study/config-changes')).status).toBe(404);
  });

  it('aggregates at the deadline once minUpdates updates arrived, fewer than the sites sampled', async () => {
    await create('quorum-study', { rounds: 2, minParticipants: 2, minUpdates: 1, roundDeadlineMs: 1_000 });
    const joined = await join('quorum-study', SITES.slice(0, 2));
    expect((await upload('quorum-study', joined[0].siteId, 1)).status).toBe(200);
    await until('the deadline', () => joined[0].closes.length === 1, 8_000);
    expect(joined[0].closes[0]).toMatchObject({ round: 1, status: 'closed', version: 1, contributors: 1 });
    expect((await roundRows('quorum-study'))[0]).toMatchObject({ status: 'closed', closeReason: 'deadline_quorum' });
  });

  it('samples participantFraction of the online sites, by a seeded draw that is the same for the same round', async () => {
    await create('sample-study', { rounds: 3, minParticipants: 2, participantFraction: 0.6, roundDeadlineMs: 60_000, seed: 77 }, SITES);
    const joined = await join('sample-study', SITES);
    const online = joined.map((h) => h.participantId).sort();
    const config = (await summary('sample-study')).config;
    const expected = sampleParticipants(online, config, 1);
    expect(expected).toHaveLength(3);

    const [round1] = await roundRows('sample-study');
    expect(round1.sampled).toEqual(expected);
    // Only the sampled sites were told to train.
    const told = () => joined.filter((h) => h.opens.length > 0).map((h) => h.participantId).sort();
    await until('the sampled sites to hear of round 1', () => told().length === 3);
    await new Promise((r) => setTimeout(r, 200));
    expect(told()).toEqual(expected);

    // Round 2 draws again, from the same seed and its own number.
    for (const h of joined.filter((x) => expected.includes(x.participantId))) expect((await upload('sample-study', h.siteId, 1)).status).toBe(200);
    await until('round 2 to open', async () => (await roundRows('sample-study')).length === 2);
    const [, round2] = await roundRows('sample-study');
    expect(round2.sampled).toEqual(sampleParticipants(online, config, 2));
    expect(round2.sampled).toHaveLength(3);
  });
});
