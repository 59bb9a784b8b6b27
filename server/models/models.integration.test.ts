import { inArray } from 'drizzle-orm';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { binaryClinicalMetrics, poolClinicalMetrics } from '../../shared/metrics/clinical';
import { evaluationReportSchema } from '../../shared/protocol/schemas';
import type { VersionEvaluation } from '../../shared/protocol/models';
import { demoHospitals, generateHeartRecords } from '../../shared/synthetic';
import { heartRisk, initialWeights } from '../../shared/tasks';
import { evaluateModel, hospitalSplit } from '../../shared/training';
import { buildModel } from '../../shared/training/model';
import type { Database } from '../db/client';
import { participants, sites } from '../db/schema';
import { createStudy, enrolSite } from '../studies/service';
import { testDatabaseTargets } from '../testing/databases';
import { storeHeartVersion } from '../testing/versions';
import { signIn, startServer, type RunningServer } from '../testing/harness';

const STUDY = 'heart-models';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

describe.each(testDatabaseTargets())('model versions: layers-format download and approval ($name)', (target) => {
  let database: Database;
  let server: RunningServer;
  let admin: Record<string, string>;
  let hospital: Record<string, string>;

  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await target.dispose(database);
  });
  beforeEach(async () => {
    await target.reset(database);
    const site = demoHospitals[0];
    await database.db.insert(sites).values({ id: site.id, name: site.name });
    await createStudy(database.db, { id: STUDY, name: 'Heart models', templateId: 'heart-risk' });
    await enrolSite(database.db, STUDY, site.id);
    // A second version, as a round would write it.
    await storeHeartVersion(database.db, STUDY, 1, 99);
    server = await startServer(database);
    admin = await signIn(server, { email: 'admin@test.local' });
    hospital = { authorization: `Bearer ${await server.consilium.tokens.hospitalLink(site.id)}` };
  });
  afterEach(async () => {
    await server.stop();
  });

  const api = (path: string, init: RequestInit = {}) => fetch(`${server.url}/api/studies/${STUDY}${path}`, init);
  const approve = (version: number, note: string, headers = admin) =>
    api(`/versions/${version}/approve`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ note }) });

  it('serves any version to admins as model.json + weights.bin that tf.loadLayersModel loads with the same predictions', async () => {
    const url = `${server.url}/api/studies/${STUDY}/versions/1/model.json`;
    const loaded = await tf.loadLayersModel(tf.io.http(url, { requestInit: { headers: admin } }));
    const json = (await (await api('/versions/1/model.json', { headers: admin })).json()) as { userDefinedMetadata: Record<string, unknown> };
    expect(json.userDefinedMetadata).toMatchObject({ studyId: STUDY, version: 1, templateId: 'heart-risk' });

    const weights = initialWeights(heartRisk.model, 99);
    const reference = buildModel(heartRisk.model, weights);
    const { validation } = hospitalSplit(heartRisk, demoHospitals[0].id, generateHeartRecords(demoHospitals[0]));
    try {
      const x = tf.tensor2d(validation.x, [validation.n, validation.width]);
      const [a, b] = [loaded.predict(x) as tf.Tensor, reference.predict(x) as tf.Tensor];
      expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
      tf.dispose([x, a, b]);
      expect((await evaluateModel(heartRisk.model, weights, validation)).numSamples).toBe(validation.n);
    } finally {
      loaded.dispose();
      reference.dispose();
    }
  });

  it('gives non-admins the approved version only, and approving another or rolling back is one recorded action', async () => {
    // Nothing approved: nobody but admins gets a model.
    expect((await api('/versions/approved/model.json')).status).toBe(404);
    expect((await api('/versions/1/model.json')).status).toBe(401);
    expect((await api('/versions/1/model.json', { headers: hospital })).status).toBe(403);
    expect((await approve(1, 'looks good', hospital)).status).toBe(403);
    expect((await approve(1, '   ')).status).toBe(400);
    expect((await approve(7, 'no such version')).status).toBe(404);

    expect((await approve(1, 'validated on round 1')).status).toBe(201);
    const anon = await api('/versions/approved/model.json');
    expect(anon.status).toBe(200);
    expect(anon.headers.get('x-model-version')).toBe('1');
    expect((await api('/versions/approved/weights.bin')).status).toBe(200);
    expect((await approve(1, 'again')).status).toBe(409);

    // Rollback: approve version 0 again.
    expect((await approve(0, 'roll back: calibration drift at one site')).status).toBe(201);
    expect((await api('/versions/approved/model.json')).headers.get('x-model-version')).toBe('0');

    const versions = (await (await api('/versions', { headers: admin })).json()) as { version: number; approved: boolean; parentVersion: number | null; sha256: string }[];
    expect(versions.map((v) => [v.version, v.approved, v.parentVersion])).toEqual([
      [0, true, null],
      [1, false, 0],
    ]);
    expect(versions.every((v) => /^[0-9a-f]{64}$/.test(v.sha256))).toBe(true);
    const approvals = (await (await api('/approvals', { headers: admin })).json()) as { version: number; previousVersion: number | null; approvedBy: string; note: string }[];
    expect(approvals.map((a) => [a.version, a.previousVersion, a.approvedBy, a.note])).toEqual([
      [0, 1, 'admin@test.local', 'roll back: calibration drift at one site'],
      [1, null, 'admin@test.local', 'validated on round 1'],
    ]);
    expect((await api('/approvals', { headers: hospital })).status).toBe(403);
  });

  it('stores each site\'s clinical metrics for a version and serves them with their pooled values', async () => {
    const second = demoHospitals[1];
    await database.db.insert(sites).values({ id: second.id, name: second.name });
    const ids = [await enrolSite(database.db, STUDY, demoHospitals[0].id), await enrolSite(database.db, STUDY, second.id)];
    const a = binaryClinicalMetrics([0.9, 0.8, 0.3, 0.6], [1, 1, 1, 0]);
    const b = binaryClinicalMetrics([0.2, 0.1, 0.7, 0.4, 0.95, 0.05], [0, 0, 1, 1, 1, 0]);
    // The sites joined reporting their training records: a report may count up to a validation split's worth of them.
    await database.db.update(participants).set({ numSamples: 100 }).where(inArray(participants.id, ids));
    for (const [k, m] of [a, b].entries()) {
      const report = evaluationReportSchema.parse({ studyId: STUDY, version: 1, loss: m.loss, accuracy: m.accuracy, numSamples: m.numSamples, backend: 'cpu', clinical: m });
      await server.consilium.coordinator.recordEvaluation(ids[k], report);
    }
    // A report whose metrics count other samples than it says is malformed.
    expect(evaluationReportSchema.safeParse({ studyId: STUDY, version: 1, loss: 0.5, accuracy: 0.5, numSamples: 5, backend: 'cpu', clinical: a }).success).toBe(false);

    const evaluation = (await (await api('/versions/1/evaluation', { headers: admin })).json()) as VersionEvaluation;
    expect(evaluation.sites.map((s) => [s.siteName, s.numSamples])).toEqual(
      [
        [demoHospitals[0].name, 4],
        [second.name, 6],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    expect(evaluation.global).toEqual(poolClinicalMetrics([a, b]));
    expect(evaluation.global).toMatchObject({ kind: 'binary', numSamples: 10, confusion: { tp: 4, fn: 2, fp: 1, tn: 3 } });
    const versions = (await (await api('/versions', { headers: admin })).json()) as { version: number; clinical: unknown }[];
    expect(versions.find((v) => v.version === 1)?.clinical).toEqual(evaluation.global);
    expect(versions.find((v) => v.version === 0)?.clinical).toBeNull();
    expect((await api('/versions/1/evaluation', { headers: hospital })).status).toBe(403);
    expect((await api('/versions/9/evaluation', { headers: admin })).status).toBe(404);
  });
});
