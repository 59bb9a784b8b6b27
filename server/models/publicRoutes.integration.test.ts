import * as tf from '@tensorflow/tfjs';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { combineStatistics, siteStatistics } from '../../shared/fl/normalisation';
import { binaryClinicalMetrics, poolClinicalMetrics } from '../../shared/metrics/clinical';
import { publicRiskModelSchema } from '../../shared/protocol/riskModel';
import { evaluationReportSchema } from '../../shared/protocol/schemas';
import { demoHospitals, generateHeartRecords } from '../../shared/synthetic';
import { heartRisk } from '../../shared/tasks';
import type { Database } from '../db/client';
import { participants, sites, studies } from '../db/schema';
import { createStudy, enrolSite } from '../studies/service';
import { testDatabaseTargets } from '../testing/databases';
import { storeHeartVersion } from '../testing/versions';
import { signIn, startServer, type RunningServer } from '../testing/harness';

const STUDY = 'heart-public';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

describe.each(testDatabaseTargets())('public risk model for the patient page ($name)', (target) => {
  let database: Database;
  let server: RunningServer;
  let admin: Record<string, string>;
  let participantIds: string[];
  const [siteA, siteB] = demoHospitals;

  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await target.dispose(database);
  });
  beforeEach(async () => {
    await target.reset(database);
    await database.db.insert(sites).values([
      { id: siteA.id, name: siteA.name },
      { id: siteB.id, name: siteB.name },
    ]);
    await createStudy(database.db, { id: STUDY, name: 'Heart, public', templateId: 'heart-risk' });
    participantIds = [await enrolSite(database.db, STUDY, siteA.id), await enrolSite(database.db, STUDY, siteB.id)];
    await storeHeartVersion(database.db, STUDY, 1, 41);
    server = await startServer(database);
    admin = await signIn(server, { email: 'admin@test.local' });
  });
  afterEach(async () => {
    await server.stop();
  });

  const riskModel = (id = STUDY, init: RequestInit = {}) => fetch(`${server.url}/api/public/studies/${id}/risk-model`, init);
  const approve = (version: number, note: string) =>
    fetch(`${server.url}/api/studies/${STUDY}/versions/${version}/approve`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ note }),
    });

  it('answers 404 with a clear message until a version is approved, and for studies without a risk model', async () => {
    const none = await riskModel();
    expect(none.status).toBe(404);
    const body = (await none.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('not_found');
    expect(body.error.message).toMatch(/no approved model yet/);

    expect((await riskModel('no-such-study')).status).toBe(404);
    expect(((await (await riskModel('no-such-study')).json()) as { error: { message: string } }).error.message).toMatch(/no study/);
    expect((await riskModel('Bad_Id')).status).toBe(400);

    await createStudy(database.db, { id: 'lesions-public', name: 'Lesions', templateId: 'lesion-images' });
    const images = await riskModel('lesions-public');
    expect(images.status).toBe(404);
    expect(((await images.json()) as { error: { message: string } }).error.message).toMatch(/no risk check/);
  });

  it('gives anyone the approved version, its pooled validation metrics and the study\'s statistics, and nothing private', async () => {
    // Two sites report on version 1; the study has fixed its global statistics from both sites.
    const a = binaryClinicalMetrics([0.9, 0.8, 0.3, 0.6], [1, 1, 1, 0]);
    const b = binaryClinicalMetrics([0.2, 0.1, 0.7, 0.4, 0.95, 0.05], [0, 0, 1, 1, 1, 0]);
    // The sites joined reporting their training records: a report may count up to a validation split's worth of them.
    await database.db.update(participants).set({ numSamples: 100 }).where(inArray(participants.id, participantIds));
    for (const [k, m] of [a, b].entries()) {
      const report = evaluationReportSchema.parse({ studyId: STUDY, version: 1, loss: m.loss, accuracy: m.accuracy, numSamples: m.numSamples, backend: 'cpu', clinical: m });
      await server.consilium.coordinator.recordEvaluation(participantIds[k], report);
    }
    const norm = combineStatistics(heartRisk.features, [siteA, siteB].map((s) => siteStatistics(heartRisk.features, generateHeartRecords(s))));
    await database.db.update(studies).set({ normalisation: norm }).where(eq(studies.id, STUDY));
    expect((await approve(1, 'validated on round 1')).status).toBe(201);

    // No cookie, no token: a patient's browser.
    const res = await riskModel();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-model-version')).toBe('1');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const body = publicRiskModelSchema.parse(await res.json());
    const pooled = poolClinicalMetrics([a, b]);
    if (pooled?.kind !== 'binary') throw new Error('expected binary metrics');
    expect(body).toMatchObject({
      studyId: STUDY,
      templateId: 'heart-risk',
      version: 1,
      outcome: heartRisk.label.description,
      modelUrl: `/api/studies/${STUDY}/versions/approved/model.json`,
      statistics: { source: 'study', sites: 2 },
      validation: { numSamples: 10, sites: 2, accuracy: pooled.accuracy, auroc: pooled.auroc, sensitivity: pooled.sensitivity, specificity: pooled.specificity },
    });
    expect(Date.parse(body.approvedAt!)).toBeGreaterThan(0);

    // The features carry the study's global means, standard deviations and modes: what the sites encode with.
    expect(body.features.map((f) => f.name)).toEqual(heartRisk.features.map((f) => f.name));
    for (const f of body.features) {
      if (f.kind === 'numeric') {
        expect(f.mean, f.name).toBeCloseTo(norm.numeric[f.name].mean, 9);
        expect(f.std, f.name).toBeCloseTo(norm.numeric[f.name].std, 9);
        expect(f.mean, `${f.name} is the study's mean, not the template's`).not.toBe((heartRisk.features.find((t) => t.name === f.name) as { mean: number }).mean);
      } else {
        expect(f.mode, f.name).toBe(norm.modes[f.name]);
      }
    }
    const age = body.features.find((f) => f.name === 'age');
    expect(age).toMatchObject({ kind: 'numeric', label: 'Age', unit: 'years', min: 18, max: 100 });

    // Nothing about a site, a participant or an admin.
    const text = JSON.stringify(body);
    for (const secret of [siteA.name, siteB.name, siteA.id, siteB.id, ...participantIds, 'admin@test.local', 'validated on round 1']) {
      expect(text, secret).not.toContain(secret);
    }
    expect(Object.keys(body).sort()).toEqual(
      ['approvedAt', 'features', 'modelUrl', 'outcome', 'statistics', 'studyId', 'studyName', 'templateId', 'validation', 'version'].sort(),
    );

    // The model it points at loads without an account, as the version it names.
    const model = await tf.loadLayersModel(`${server.url}${body.modelUrl}`);
    try {
      expect(model.getUserDefinedMetadata()).toMatchObject({ version: 1, studyId: STUDY });
    } finally {
      model.dispose();
    }
  });

  it('follows a new approval or a rollback, and says when a version has no validation results yet', async () => {
    expect((await approve(1, 'first')).status).toBe(201);
    expect(publicRiskModelSchema.parse(await (await riskModel()).json()).version).toBe(1);
    expect((await approve(0, 'roll back')).status).toBe(201);
    const body = publicRiskModelSchema.parse(await (await riskModel()).json());
    expect(body.version).toBe(0);
    expect(body.validation).toBeNull();
    // No round has fixed the study's statistics: the template's reference values, said so.
    expect(body.statistics).toEqual({ source: 'reference' });
    expect(body.features).toEqual(heartRisk.features);
  });
});
