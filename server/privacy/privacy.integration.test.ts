import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { studySpent, type SitePrivacy } from '../../shared/fl/privacy/sitePrivacy';
import type { AggregationReport } from '../../shared/fl/report';
import { binaryClinicalMetrics } from '../../shared/metrics/clinical';
import type { AuditPage } from '../../shared/protocol/accounts';
import type { MetricSeries } from '../../shared/protocol/metricSeries';
import type { RoundClosed, RoundOpen, StudySummary } from '../../shared/protocol/schemas';
import { allHeartDemoHospitals } from '../../shared/synthetic';
import type { Database } from '../db/client';
import { evaluations, rounds, roundSecrets } from '../db/schema';
import { testDatabaseTargets } from '../testing/databases';
import { emitAck, nextEvent } from '../testing/harness';
import { heartShapes as shapes, modelWeights, startHeartStudy, uploadDelta, type HeartStudy } from '../testing/heartStudy';

/**
 * Site-level differential privacy through the real server: the released model is the clipped,
 * bounded-weight, fixed-denominator mean plus Gaussian noise of the configured size; the study spends
 * its budget round by round and stops itself before passing it.
 */
const STUDY = 'dp-test';
const HOSPITALS = allHeartDemoHospitals.slice(0, 4);
const RECORDS = [50, 200, 300, 1_000_000];

const filled = (v: number) => shapes.map(({ shape }) => new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v));
const small = (k: number) => shapes.map(({ shape }, t) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(k * 7 + t * 3 + i) * 0.01));
const flat = (ts: Float32Array[]) => ts.flatMap((t) => [...t]);
const norm = (v: readonly number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe.each(testDatabaseTargets())('a differentially private study ($name)', (target) => {
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

  const api = (path: string, init?: RequestInit) => study!.api(path, init);
  const model = (version: number) => modelWeights(study!, STUDY, version);

  /** The study, its hospitals joined with RECORDS training records each, and round 1 open. */
  async function start(privacy: SitePrivacy, rounds = 5): Promise<RoundOpen> {
    study = await startHeartStudy(target, database, { studyId: STUDY, hospitals: HOSPITALS, records: RECORDS, config: { rounds, privacy } });
    return study.opened[0];
  }

  /** Every hospital sends its round update; resolves with the round's close as the second hospital saw it. */
  async function playRound(round: number, base: number, deltas: Float32Array[][]): Promise<RoundClosed> {
    const closed = nextEvent(study!.sockets[1], 'round:closed');
    for (const [k, d] of deltas.entries()) expect((await uploadDelta(study!, STUDY, k, { round, baseVersion: base, numSamples: RECORDS[k] }, d)).status).toBe(200);
    return closed;
  }

  it('releases the clipped, bounded-weight mean over q·W plus noise of standard deviation z·C/(q·W), each site moving it by at most C/(q·W)', async () => {
    const privacy: SitePrivacy = { clipNorm: 1, noiseMultiplier: 1.5, sampleRate: 1, delta: 1e-5, epsilonBudget: 50, recordCap: 100 };
    const open = await start(privacy);
    expect(open.clipNorm).toBe(1);
    // Site 0: 50 records (weight 0.5); sites 1-3 weigh 1, the last however many records it declares: W = 3.5.
    const W = 3.5;
    const [{ bounds }] = await database.db.select({ bounds: rounds.bounds }).from(rounds);
    expect(bounds).toMatchObject({ clipMode: 'fixed', clipNorm: 1, sampleCap: 100, maxWeight: 1, privacy: { denominator: W, totalWeight: W, recordCap: 100 } });
    expect(bounds!.privacy!.noiseStd).toBeCloseTo(1.5 / W, 12);
    expect((await database.db.select().from(roundSecrets)).map((r) => r.noiseKey)).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
    // A known key, so that this test draws the same noise every run (a real round's key is random).
    await database.db.update(roundSecrets).set({ noiseKey: '5a'.repeat(32) });

    // The last site is hostile: 10^6 records declared and +5 in every weight (norm ≫ C).
    const deltas = [small(0), small(1), small(2), filled(5)];
    const closed = await playRound(1, 0, deltas);
    expect(closed).toMatchObject({ round: 1, version: 1, studyStatus: 'running', privacy: { rounds: 1, budget: 50, exhausted: false } });
    expect(closed.privacy!.epsilon).toBeCloseTo(studySpent(privacy, 1).epsilon, 10);

    const [v0, v1] = [await model(0), await model(1)];
    const P = v0.length;
    const honest = (i: number) => (0.5 * flat(deltas[0])[i] + flat(deltas[1])[i] + flat(deltas[2])[i]) / W;
    const attackerDirection = 1 / Math.sqrt(P); // its delta, clipped to 1, is 1/√P in every coordinate
    const exact = v0.map((_, i) => honest(i) + attackerDirection / W);
    const residual = v1.map((w, i) => w - v0[i] - exact[i]);
    // The residual is the noise alone: centred, of standard deviation z·C/(q·W) (5 standard errors).
    const sigma = 1.5 / W;
    const m = residual.reduce((a, b) => a + b, 0) / P;
    const sd = Math.sqrt(residual.reduce((a, b) => a + (b - m) ** 2, 0) / (P - 1));
    expect(Math.abs(m)).toBeLessThan((5 * sigma) / Math.sqrt(P));
    expect(Math.abs(sd / sigma - 1)).toBeLessThan(5 / Math.sqrt(2 * P));
    // The hostile site's pull along its own direction: C/(q·W) plus noise, however large its update.
    const pull = v1.reduce((s, w, i) => s + (w - v0[i] - honest(i)) * attackerDirection, 0);
    expect(pull).toBeLessThan(1 / W + 5 * sigma);
    expect(pull).toBeGreaterThan(1 / W - 5 * sigma);
    expect(norm(exact.map((x, i) => x - honest(i)))).toBeLessThanOrEqual((1 / W) * (1 + 1e-6));

    const [r1] = await database.db.select({ report: rounds.aggregationReport }).from(rounds).orderBy(rounds.number).limit(1);
    const report = r1.report as AggregationReport;
    expect(report.privacy).toMatchObject({ denominator: W, sampleRate: 1, noiseMultiplier: 1.5, delta: 1e-5 });
    expect(report.updates.map((u) => u.weight)).toEqual([0.5 / W, 1 / W, 1 / W, 1 / W]);
    expect(report.updates[3]).toMatchObject({ clipped: true, capped: true });
    // Capped: the sites with more records than the record cap, counted at the cap (weight 1).
    expect(report.updates.map((u) => u.capped)).toEqual([false, true, true, true]);

    // A score histogram would be a release outside the accountant: it is not kept.
    const labels = Array.from({ length: 20 }, (_, i) => i % 2);
    const clinical = binaryClinicalMetrics(labels.map((y, i) => (y ? 0.7 : 0.3) + (i % 3) * 0.05), labels);
    expect(clinical.histogram).toBeDefined();
    expect(await emitAck(study!.sockets[1], 'hospital:evaluation', { studyId: STUDY, version: 1, loss: clinical.loss, accuracy: clinical.accuracy, numSamples: 20, backend: 'cpu', clinical })).toMatchObject({ ok: true });
    const [stored] = await database.db.select({ clinical: evaluations.clinical }).from(evaluations);
    expect(stored.clinical).toMatchObject({ numSamples: 20 });
    expect(stored.clinical).not.toHaveProperty('histogram');
  });

  it('spends its budget round by round, stops itself before a round would pass it, and nothing opens another', async () => {
    // ε after 2 rounds within 7, after 3 beyond it.
    const privacy: SitePrivacy = { clipNorm: 1, noiseMultiplier: 1, sampleRate: 1, delta: 1e-5, epsilonBudget: 8, recordCap: 100 };
    expect(studySpent(privacy, 2).epsilon).toBeLessThan(8);
    expect(studySpent(privacy, 3).epsilon).toBeGreaterThan(8);
    await start(privacy, 6);
    const deltas = [0, 1, 2, 3].map(small);
    const opened = nextEvent(study!.sockets[1], 'round:open');
    const first = await playRound(1, 0, deltas);
    expect(first).toMatchObject({ studyStatus: 'running', privacy: { rounds: 1, exhausted: false } });
    expect(await opened).toMatchObject({ round: 2 });
    const second = await playRound(2, 1, deltas);
    expect(second).toMatchObject({ round: 2, version: 2, studyStatus: 'stopped', evaluate: true, privacy: { rounds: 2, exhausted: true } });
    await study!.server.consilium.coordinator.settle();

    const summary = (await (await api(`/api/studies/${STUDY}`)).json()) as StudySummary;
    expect(summary).toMatchObject({ status: 'stopped', completedRounds: 2, privacy: { rounds: 2, budget: 8, exhausted: true } });
    expect(summary.privacy!.epsilon).toBeCloseTo(studySpent(privacy, 2).epsilon, 10);
    await expect
      .poll(async () => ((await (await api('/api/audit?action=study.privacy_budget_spent')).json()) as AuditPage).events.map((e) => e.detail))
      .toEqual([expect.objectContaining({ budget: 8, rounds: 2, epsilon: summary.privacy!.epsilon })]);

    // The dashboard's privacy series: ε after each round.
    const series = (await (await api(`/api/studies/${STUDY}/metrics`)).json()) as MetricSeries;
    expect(series.privacy).toMatchObject({ budget: 8, delta: 1e-5 });
    expect(series.privacy!.points.map((p) => p.round)).toEqual([1, 2]);

    // Nothing restarts it past the budget: not resume, not a restart from a version, not a new budget.
    expect((await api(`/api/studies/${STUDY}/resume`, { method: 'POST' })).status).toBe(409);
    expect((await api(`/api/studies/${STUDY}/restart`, { method: 'POST', body: JSON.stringify({ fromVersion: 1 }) })).status).toBe(409);
    expect((await api(`/api/studies/${STUDY}/config`, { method: 'PATCH', body: JSON.stringify({ privacy: { ...privacy, epsilonBudget: 100 } }) })).status).toBe(409);
    expect(await database.db.select({ n: rounds.number }).from(rounds)).toHaveLength(2);
  });

  it('keeps the privacy settings fixed from the start, and refuses what the accountant cannot account for', async () => {
    const privacy: SitePrivacy = { clipNorm: 1, noiseMultiplier: 2, sampleRate: 1, delta: 1e-5, epsilonBudget: 20, recordCap: 100 };
    await start(privacy);
    const patch = async (config: object) => {
      const res = await api(`/api/studies/${STUDY}/config`, { method: 'PATCH', body: JSON.stringify(config) });
      return { status: res.status, message: ((await res.json()) as { error?: { message: string } }).error?.message };
    };
    expect(await patch({ privacy: { ...privacy, epsilonBudget: 40 } })).toMatchObject({ status: 400, message: expect.stringMatching(/config.privacy: fixed once a study exists \(the privacy budget accounts every round/) });
    expect(await patch({ privacy: null })).toMatchObject({ status: 400 });
    expect(await patch({ strategy: { name: 'median' } })).toMatchObject({ status: 400, message: expect.stringMatching(/median strategy is unavailable under differential privacy/) });
    expect(await patch({ straggler: { policy: 'accept-late', maxStaleness: 1, weight: 0.5 } })).toMatchObject({ status: 400, message: expect.stringMatching(/accept-late is unavailable under differential privacy/) });
    expect(await patch({ rounds: 8 })).toMatchObject({ status: 200 });
  });
});
