import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordSpent, stepsWithinBudget, type RecordPrivacyInput } from '../../shared/fl/privacy/recordLevel';
import type { RecordPrivacyStatus, RoundClosed, StudySummary } from '../../shared/protocol/schemas';
import { allHeartDemoHospitals } from '../../shared/synthetic';
import type { Database } from '../db/client';
import { recordPrivacyRuns } from '../db/schema';
import { testDatabaseTargets } from '../testing/databases';
import { nextEvent } from '../testing/harness';
import { heartShapes as shapes, startHeartStudy, uploadDelta, type HeartStudy } from '../testing/heartStudy';

/**
 * Record-level DP-SGD through the real server: each round, every site is assigned its DP-SGD steps
 * at q = batch size / its records, counted before it trains; a site whose budget allows no further
 * step is not sampled again (the others go on), and once every site has used its budget the study
 * stops. Admins see every site's ε, a hospital its own.
 */
const STUDY = 'record-dp-test';
const HOSPITALS = allHeartDemoHospitals.slice(0, 2);
// Batch 32: q = 0.2 at the small site (2 steps within ε 3), 0.1 at the larger one (12 steps).
const RECORDS = [160, 320];
const PRIVACY = { noiseMultiplier: 1.1, clipNorm: 1, epsilonBudget: 3, delta: 1e-5 } satisfies RecordPrivacyInput;
const zeros = () => shapes.map(({ shape }) => new Float32Array(shape.reduce((a, b) => a * b, 1)));

describe.each(testDatabaseTargets())('a record-level DP-SGD study ($name)', (target) => {
  let database: Database;
  let study: HeartStudy | null = null;

  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await target.dispose(database);
  });
  afterEach(async () => {
    await study?.stop();
    study = null;
  });

  const status = async (headers: Record<string, string> = {}): Promise<RecordPrivacyStatus> => {
    const res = await study!.api(`/api/studies/${STUDY}/record-privacy`, { headers });
    expect(res.status).toBe(200);
    return res.json();
  };

  it('assigns each site its steps at q = batch / records, stops a site at its budget, then the study', async () => {
    expect(stepsWithinBudget({ sampleRate: 0.2, ...PRIVACY })).toBe(2);
    expect(stepsWithinBudget({ sampleRate: 0.1, ...PRIVACY })).toBe(12);
    study = await startHeartStudy(target, database, {
      studyId: STUDY,
      hospitals: HOSPITALS,
      records: RECORDS,
      config: { rounds: 10, minParticipants: 1, batchSize: 32, localSteps: 5, recordPrivacy: PRIVACY },
    });
    // Round 1: the small site's budget allows 2 of the 5 steps, the larger one's all 5.
    expect(study.opened.map((o) => o.training.dpSgd)).toEqual([
      { clipNorm: 1, noiseMultiplier: 1.1, sampleRate: 0.2, steps: 2 },
      { clipNorm: 1, noiseMultiplier: 1.1, sampleRate: 0.1, steps: 5 },
    ]);
    expect(study.opened.map((o) => o.training.localSteps)).toEqual([2, 5]);
    // Counted when the round opened, before anyone trained.
    const runs = await database.db.select().from(recordPrivacyRuns);
    expect(runs.map((r) => [r.sampleRate, r.steps]).sort()).toEqual([
      [0.1, 5],
      [0.2, 2],
    ]);

    let closed = nextEvent(study.sockets[1], 'round:closed');
    let opened = nextEvent(study.sockets[1], 'round:open');
    for (const k of [0, 1]) expect((await uploadDelta(study, STUDY, k, { round: 1, baseVersion: 0, numSamples: RECORDS[k] }, zeros())).status).toBe(200);
    expect(await closed).toMatchObject({ round: 1, version: 1 } satisfies Partial<RoundClosed>);

    // Round 2: the small site has used its budget and is not sampled; the larger one goes on.
    expect((await opened).training.dpSgd).toEqual({ clipNorm: 1, noiseMultiplier: 1.1, sampleRate: 0.1, steps: 5 });
    const admin = await status();
    expect(admin).toMatchObject({ noiseMultiplier: 1.1, clipNorm: 1, delta: 1e-5, budget: 3 });
    const [small, large] = HOSPITALS.map((h) => admin.sites.find((s) => s.siteName === h.name)!);
    expect([small, large].map((s) => [s.rounds, s.steps, s.exhausted])).toEqual([
      [1, 2, true],
      [2, 10, false],
    ]);
    expect(small.epsilon).toBeCloseTo(recordSpent([{ sampleRate: 0.2, steps: 2 }], 1.1, 1e-5).epsilon, 10);
    expect(small.epsilon).toBeLessThanOrEqual(3);
    // A hospital sees its own line only.
    const own = await status({ authorization: `Bearer ${await study.token(0)}` });
    expect(own.sites.map((s) => s.siteName)).toEqual([small.siteName]);

    closed = nextEvent(study.sockets[1], 'round:closed');
    opened = nextEvent(study.sockets[1], 'round:open');
    expect((await uploadDelta(study, STUDY, 1, { round: 2, baseVersion: 1, numSamples: RECORDS[1] }, zeros())).status).toBe(200);
    await closed;
    // Round 3: what is left of the larger site's budget, 2 of the 5 steps.
    expect((await opened).training.dpSgd).toMatchObject({ sampleRate: 0.1, steps: 2 });
    closed = nextEvent(study.sockets[1], 'round:closed');
    expect((await uploadDelta(study, STUDY, 1, { round: 3, baseVersion: 2, numSamples: RECORDS[1] }, zeros())).status).toBe(200);
    await closed;

    // Every site has used its budget: the study stops, no round opens again.
    await expect.poll(async () => ((await (await study!.api(`/api/studies/${STUDY}`)).json()) as StudySummary).status).toBe('stopped');
    const last = await status();
    expect(last.sites.map((s) => [s.steps, s.exhausted]).sort()).toEqual([
      [12, true],
      [2, true],
    ]);
    expect(Math.max(...last.sites.map((s) => s.epsilon))).toBeLessThanOrEqual(3);
    expect((await database.db.select().from(recordPrivacyRuns)).length).toBe(4);
  });

  it('combines with site-level privacy under secure aggregation, each accounted separately', async () => {
    const site = { clipNorm: 1, noiseMultiplier: 1, sampleRate: 1, delta: 1e-5, epsilonBudget: 50, recordCap: 100 };
    study = await startHeartStudy(target, database, {
      studyId: STUDY,
      hospitals: HOSPITALS,
      records: RECORDS,
      config: { rounds: 3, batchSize: 32, localSteps: 5, privacy: site, secureAggregation: { fractionBits: null }, recordPrivacy: PRIVACY },
    });
    // Each site: its DP-SGD steps for its records, the site-level clip, and its part in the secure round.
    for (const [k, open] of study.opened.entries()) {
      expect(open.training.dpSgd).toMatchObject({ sampleRate: 32 / RECORDS[k], noiseMultiplier: 1.1 });
      expect(open.clipNorm).toBe(1);
      expect(open.secureAggregation).toBeDefined();
    }
    const summary = (await (await study.api(`/api/studies/${STUDY}`)).json()) as StudySummary;
    expect(summary.privacy).toMatchObject({ rounds: 1, budget: 50 });
    expect((await status()).sites.map((s) => s.steps).sort()).toEqual([2, 5]);
  });

  it('refuses to change record-level privacy once the study exists', async () => {
    study = await startHeartStudy(target, database, { studyId: STUDY, hospitals: HOSPITALS, records: RECORDS, config: { rounds: 3, recordPrivacy: PRIVACY } });
    const res = await study.api(`/api/studies/${STUDY}/config`, { method: 'PATCH', body: JSON.stringify({ recordPrivacy: null }) });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toMatch(/recordPrivacy/);
  });
});
