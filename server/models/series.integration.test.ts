import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { binaryClinicalMetrics, poolClinicalMetrics } from '../../shared/metrics/clinical';
import { withoutHistogram } from '../../shared/metrics/curves';
import type { MetricSeries } from '../../shared/protocol/metricSeries';
import { evaluationReportSchema } from '../../shared/protocol/schemas';
import { demoHospitals } from '../../shared/synthetic';
import type { Database } from '../db/client';
import { evaluations, participants, sites } from '../db/schema';
import { createStudy, enrolSite } from '../studies/service';
import { testDatabaseTargets } from '../testing/databases';
import { signIn, startServer, type RunningServer } from '../testing/harness';
import { storeHeartVersion } from '../testing/versions';

const STUDY = 'heart-series';

describe.each(testDatabaseTargets())('GET /api/studies/:id/metrics: per-version, per-site series ($name)', (target) => {
  let database: Database;
  let server: RunningServer;
  let admin: Record<string, string>;
  let ids: string[];
  const [first, second] = demoHospitals;

  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await target.dispose(database);
  });
  beforeEach(async () => {
    await target.reset(database);
    await database.db.insert(sites).values([
      { id: first.id, name: first.name },
      { id: second.id, name: second.name },
    ]);
    await createStudy(database.db, { id: STUDY, name: 'Heart series', templateId: 'heart-risk' });
    ids = [await enrolSite(database.db, STUDY, first.id), await enrolSite(database.db, STUDY, second.id)];
    await database.db.update(participants).set({ numSamples: 100 }).where(inArray(participants.id, ids));
    await storeHeartVersion(database.db, STUDY, 1, 7);
    await storeHeartVersion(database.db, STUDY, 2, 8);
    server = await startServer(database);
    admin = await signIn(server, { email: 'admin@test.local' });
  });
  afterEach(async () => {
    await server.stop();
  });

  const get = (path: string, headers: Record<string, string> = admin) => fetch(`${server.url}/api/studies/${path}`, { headers });
  const report = async (site: number, version: number, probs: number[], labels: number[]) => {
    const m = binaryClinicalMetrics(probs, labels);
    const r = evaluationReportSchema.parse({ studyId: STUDY, version, loss: m.loss, accuracy: m.accuracy, numSamples: m.numSamples, backend: 'cpu', clinical: m });
    await server.consilium.coordinator.recordEvaluation(ids[site], r);
    return m;
  };

  it('serves every version, round 0 included, with its pooled clinical metrics and each site’s own reports', async () => {
    // Every scan called negative by version 1 at both sites; version 2 finds some positives at the first.
    const a0 = await report(0, 0, [0.6, 0.4, 0.55, 0.3], [1, 0, 0, 0]);
    const a1 = await report(0, 1, [0.4, 0.3, 0.2, 0.1], [1, 1, 0, 0]);
    const b1 = await report(1, 1, [0.45, 0.2, 0.1], [1, 0, 0]);
    const a2 = await report(0, 2, [0.7, 0.3, 0.2, 0.1], [1, 1, 0, 0]);

    const res = await get(`${STUDY}/metrics`);
    expect(res.status).toBe(200);
    const series = (await res.json()) as MetricSeries;
    expect(series).toMatchObject({ studyId: STUDY, kind: 'binary', classes: ['no disease', 'disease present'] });
    expect(series.versions.map((v) => [v.version, v.round, v.reports, v.numSamples])).toEqual([
      [0, null, 1, 4],
      [1, 1, 2, 7],
      [2, 2, 1, 4],
    ]);
    expect(series.versions[1].clinical).toEqual(poolClinicalMetrics([a1, b1]));
    expect(series.versions[1].clinical).toMatchObject({ confusion: { tp: 0, fp: 0, tn: 4, fn: 3 }, sensitivity: 0 });
    expect(series.versions[1].accuracy).toBeCloseTo(4 / 7);
    expect(series.versions[2].clinical).toEqual(poolClinicalMetrics([a2]));
    expect(series.sites.map((s) => [s.siteName, s.points.map((p) => p.version)])).toEqual(
      [
        [first.name, [0, 1, 2]],
        [second.name, [1]],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    const firstSite = series.sites.find((s) => s.siteName === first.name)!;
    // Each site's figures, without the score histogram (the chart needs none; it is the bulk of a report).
    expect(firstSite.points[0]).toMatchObject({ version: 0, numSamples: 4, clinical: withoutHistogram(a0), pooled: true });
    expect(firstSite.points[0].accuracy).toBeCloseTo(a0.accuracy);
  });

  it('leaves a flagged report out of the pooled figures and shows it on the site’s curve, marked', async () => {
    const a1 = await report(0, 1, [0.4, 0.3, 0.2, 0.1], [1, 1, 0, 0]);
    await report(1, 1, [0.9, 0.2, 0.1], [1, 0, 0]);
    await database.db
      .update(evaluations)
      .set({ flag: 'far from the other sites' })
      .where(and(eq(evaluations.studyId, STUDY), eq(evaluations.participantId, ids[1])));
    const series = (await (await get(`${STUDY}/metrics`)).json()) as MetricSeries;
    expect(series.versions[1]).toMatchObject({ reports: 1, flagged: 1, numSamples: 4 });
    expect(series.versions[1].clinical).toEqual(poolClinicalMetrics([a1]));
    const flagged = series.sites.find((s) => s.participantId === ids[1])!;
    expect(flagged.points).toMatchObject([{ version: 1, pooled: false }]);
  });

  it('is for platform admins only, and checks the study id', async () => {
    const hospital = { authorization: `Bearer ${await server.consilium.tokens.hospitalLink(first.id)}` };
    expect((await get(`${STUDY}/metrics`, {})).status).toBe(401);
    expect((await get(`${STUDY}/metrics`, hospital)).status).toBe(403);
    expect((await get('no-such-study/metrics')).status).toBe(404);
    const bad = await get('Not_A_Study!/metrics');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string; message: string } }).error.message).toMatch(/path parameter id/);
  });
});
