import { analyseCsv, batchToRecords, recordsToCsv, stringSource, type RecordBatch } from '../shared/data';
import { combineStatistics, siteStatistics } from '../shared/fl/normalisation';
import type { Dashboard } from '../shared/protocol/schemas';
import { demoHospitals, generateHeartRecords } from '../shared/synthetic';
import { deriveSeed } from '../shared/synthetic/rng';
import { heartRisk, type TabularRecord } from '../shared/tasks';
import { splitTrainValidation } from '../shared/training/split';
import { expect, test } from './support/fixtures';

test.use({ serverOptions: { env: { DEMO_ROUNDS: '1', DEMO_EPOCHS: '1' } } });

/** Records the worker stores in chunks of 5,000: this many make three chunks. */
const IMPORTED = 12_000;

/** The training rows of a site's records, split as every part of Consilium splits them. */
function trainRecords(records: TabularRecord[], splitKey: string, config: { validationFraction: number; seed: number }): TabularRecord[] {
  const { train } = splitTrainValidation(
    records.map((r) => r.label),
    config.validationFraction,
    deriveSeed(config.seed, splitKey),
  );
  return Array.from(train, (i) => records[i]);
}

test('tabs over a tiny memory budget stream their records from IndexedDB, and train and evaluate a round', async ({ consilium, openHospitals, openAdmin }) => {
  const hospitals = await openHospitals(3, { join: false, memoryBudgetMb: 0.01 });
  // Even the demo records exceed 0.01 MiB: each tab streams its one stored chunk.
  for (const h of hospitals) {
    await expect(h.page.getByTestId('dataset-streaming')).toHaveText(/streamed from IndexedDB in 1 block \(budget 0\.01 MiB\)/);
  }

  // One site imports records enough for three stored chunks, and streams them.
  const [a] = hospitals;
  const exported = generateHeartRecords({ ...demoHospitals[0], id: 'large-export', size: IMPORTED, seed: 777, missingRate: 0.02 });
  const text = recordsToCsv(heartRisk, exported);
  await a.page.getByTestId('csv-file-input').setInputFiles({ name: 'large-export.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });
  await expect(a.page.getByTestId('import-accepted')).toHaveText(IMPORTED.toLocaleString('en-US'), { timeout: 60_000 });
  await a.page.getByTestId('import-commit').click();
  await expect(a.page.getByTestId('records-count')).toHaveText(String(IMPORTED), { timeout: 30_000 });
  await expect(a.page.getByTestId('dataset-streaming')).toHaveText(/streamed from IndexedDB in 3 blocks \(budget 0\.01 MiB\)/);
  await expect(a.page.getByTestId('dataset-streaming')).toHaveAttribute('data-blocks', '3');

  const counts = [];
  for (const h of hospitals) {
    counts.push({
      siteId: h.siteId,
      train: Number(await h.page.getByTestId('train-count').textContent()),
      validation: Number(await h.page.getByTestId('validation-count').textContent()),
    });
  }
  expect(counts[0].train + counts[0].validation).toBe(IMPORTED);

  const admin = await openAdmin();
  for (const h of hospitals) await h.page.getByTestId('join-button').click();
  await expect(admin.getByTestId('metrics-row')).toHaveCount(1, { timeout: 180_000 });
  for (const h of hospitals) {
    await expect(h.page.getByTestId('rounds-done')).toHaveText('1', { timeout: 30_000 });
    await expect(h.page.getByTestId('last-accuracy')).toHaveText(/\d+(\.\d+)? ?%/);
  }

  const dashboard = async () => (await (await admin.request.get(`${consilium.url}/api/studies/heart-demo/dashboard`)).json()) as Dashboard;
  // Every site evaluated the new version on its whole streamed validation split.
  await expect.poll(async () => (await dashboard()).metrics.find((m) => m.round === 1)?.reports, { timeout: 60_000 }).toBe(3);
  const d = await dashboard();
  const totalValidation = counts.reduce((s, c) => s + c.validation, 0);
  expect(d.metrics.find((m) => m.round === 1)?.numSamples).toBe(totalValidation);
  for (const c of counts) expect(d.participants.find((p) => p.siteId === c.siteId)?.numSamples).toBe(c.train);

  // The statistics each tab streamed chunk by chunk are those of the training rows the in-memory
  // split picks: the study's normalisation equals the one computed here from the same records.
  const config = d.study.config;
  const imported: RecordBatch[] = [];
  await analyseCsv(stringSource(text), heartRisk, undefined, { batchSize: 5000, onRecords: async (b) => void imported.push(b) });
  const parts = [
    siteStatistics(heartRisk.features, trainRecords(imported.flatMap((b) => batchToRecords(b)), a.siteId, config)),
    ...hospitals.slice(1).map((h) => {
      const profile = demoHospitals.find((p) => p.id === h.siteId)!;
      return siteStatistics(heartRisk.features, trainRecords(generateHeartRecords(profile, { markers: true }), profile.id, config));
    }),
  ];
  const expected = combineStatistics(heartRisk.features, parts);
  const norm = d.study.normalisation!;
  expect(norm).toMatchObject({ sites: 3, rows: expected.rows, modes: expected.modes });
  for (const [name, s] of Object.entries(expected.numeric)) {
    expect(norm.numeric[name].count).toBe(s.count);
    expect(norm.numeric[name].mean).toBeCloseTo(s.mean, 9);
    expect(norm.numeric[name].std).toBeCloseTo(s.std, 9);
  }
});
