import fs from 'node:fs';
import type { VersionEvaluation } from '../shared/protocol/models';
import type { Dashboard } from '../shared/protocol/schemas';
import { centralBaseline } from './support/baseline';
import { expect, test } from './support/fixtures';

const ROUNDS = 3;
test.use({ serverOptions: { env: { DEMO_ROUNDS: String(ROUNDS) } } });

test('three hospitals federate three rounds while the admin watches the model converge', async ({ consilium, openHospitals, openAdmin }) => {
  const baseline = centralBaseline();
  const admin = await openAdmin();
  await expect(admin.getByRole('heading', { name: /Heart disease risk/ })).toBeVisible();

  const hospitals = await openHospitals(3);
  for (const h of hospitals) await expect(h.page.getByTestId('backend')).toHaveText('cpu');

  // The admin sees the hospitals connect, then one chart point and one metrics row per round, live.
  await expect(admin.getByTestId('participant-row')).toHaveCount(3);
  await expect(admin.getByTestId('metrics-row')).toHaveCount(ROUNDS, { timeout: 200_000 });

  // Wait for every hospital's evaluation of the final version.
  const dashboard = async () => (await (await admin.request.get(`${consilium.url}/api/studies/heart-demo/dashboard`)).json()) as Dashboard;
  await expect.poll(async () => (await dashboard()).metrics.find((m) => m.round === ROUNDS)?.reports, { timeout: 60_000 }).toBe(3);
  const d = await dashboard();
  expect(d.study).toMatchObject({ status: 'completed', completedRounds: ROUNDS, currentVersion: ROUNDS });
  const perRound = d.metrics.filter((m) => m.round !== null);
  expect(perRound.map((m) => m.round)).toEqual([1, 2, 3]);
  expect(d.participants.map((p) => p.backend)).toEqual(['cpu', 'cpu', 'cpu']);

  const final = perRound.at(-1)!;
  const lines = [
    `central model: ${(100 * baseline.accuracy).toFixed(1)} %, majority class: ${(100 * baseline.majorityRate).toFixed(1)} %`,
    `federated, by round: ${perRound.map((m) => `${(100 * (m.accuracy ?? 0)).toFixed(1)} %`).join(', ')}`,
  ];
  console.log(lines.join('\n'));
  expect(final.numSamples).toBe(baseline.validationSamples);
  expect(final.accuracy!).toBeGreaterThanOrEqual(baseline.majorityRate + 0.1);
  expect(Math.abs(final.accuracy! - baseline.accuracy)).toBeLessThanOrEqual(0.05);

  const chart = admin.getByTestId('convergence-chart');
  await expect(chart).toHaveAttribute('data-points', String(ROUNDS));
  await expect(admin.getByTestId('study-status')).toHaveText(/completed/i);
  // Features were standardised with statistics combined from the three sites' training splits.
  await expect(admin.getByTestId('normalisation')).toHaveText(`3 sites, ${baseline.trainSamples} records`);
  // Each site's missing values per feature, from the same statistics: the demo's sites miss few values, so no warning.
  const dataBySite = admin.getByRole('region', { name: 'Data by site' });
  await expect(dataBySite.getByTestId('data-quality-row')).toHaveCount(3);
  await expect(dataBySite.getByTestId('data-quality-warning')).toHaveCount(0);
  await dataBySite.screenshot({ path: test.info().outputPath('data-by-site.png') });

  for (const h of hospitals) {
    await expect(h.page.getByTestId('rounds-done')).toHaveText(String(ROUNDS));
    await expect(h.page.getByTestId('last-accuracy')).toHaveText(/\d+(\.\d+)? ?%/);
  }

  // Every site reported clinical metrics of the final version on its own validation split.
  const evaluation = (await (await admin.request.get(`${consilium.url}/api/studies/heart-demo/versions/${ROUNDS}/evaluation`)).json()) as VersionEvaluation;
  expect(evaluation.sites).toHaveLength(3);
  expect(evaluation.sites.every((s) => s.clinical?.kind === 'binary')).toBe(true);
  expect(evaluation.global).toMatchObject({ kind: 'binary', numSamples: baseline.validationSamples });
  if (evaluation.global?.kind === 'binary') {
    console.log(`final version, pooled: AUROC ${evaluation.global.auroc.toFixed(3)}, sensitivity ${evaluation.global.sensitivity?.toFixed(3)}, specificity ${evaluation.global.specificity?.toFixed(3)}, ECE ${evaluation.global.ece.toFixed(3)}`);
    expect(evaluation.global.auroc).toBeGreaterThan(0.8);
  }
  await expect(admin.locator(`[data-testid="version-row"][data-version="${ROUNDS}"] [data-testid="clinical"]`)).toHaveText(/AUROC 0\.\d{3} · sens\. \d/);

  // The admin approves the final version with a note; from then on anyone can load it in TF.js format.
  const anonymous = await admin.context().browser()!.newContext();
  expect((await anonymous.request.get(`${consilium.url}/api/studies/heart-demo/versions/approved/model.json`)).status()).toBe(404);
  await expect(admin.getByTestId('version-row')).toHaveCount(ROUNDS + 1);
  await expect(admin.getByTestId('approved-version')).toHaveText(/No version approved/);
  await admin.locator(`[data-testid="version-row"][data-version="${ROUNDS}"]`).getByRole('button', { name: 'Approve…' }).click();
  await admin.getByPlaceholder(/validated on round/).fill(`Round ${ROUNDS}: accuracy checked at every site`);
  await admin.getByRole('button', { name: `Approve v${ROUNDS}` }).click();
  // Where the final version is a shade worse than an earlier one on some pooled figure, the console says so and asks again.
  const approvedText = admin.getByTestId('approved-version').filter({ hasText: `Approved for patients: v${ROUNDS}` });
  const anyway = admin.getByRole('button', { name: `Approve v${ROUNDS} anyway` });
  await expect(approvedText.or(anyway)).toBeVisible();
  if (await anyway.isVisible()) await anyway.click();
  await expect(admin.getByTestId('approved-version')).toHaveText(`Approved for patients: v${ROUNDS}`);
  const approved = await anonymous.request.get(`${consilium.url}/api/studies/heart-demo/versions/approved/model.json`);
  expect(approved.status()).toBe(200);
  expect(approved.headers()['x-model-version']).toBe(String(ROUNDS));
  const modelJson = (await approved.json()) as { format: string; weightsManifest: { paths: string[] }[] };
  expect(modelJson.format).toBe('layers-model');
  expect((await anonymous.request.get(`${consilium.url}/api/studies/heart-demo/versions/approved/${modelJson.weightsManifest[0].paths[0]}`)).status()).toBe(200);
  expect((await anonymous.request.get(`${consilium.url}/api/studies/heart-demo/versions/1/model.json`)).status()).toBe(401);
  await anonymous.close();

  // The README's screenshot is taken here, from a real run.
  fs.mkdirSync('docs', { recursive: true });
  await admin.screenshot({ path: test.info().outputPath('admin.png'), fullPage: true });
  if (process.env.UPDATE_SCREENSHOTS) {
    await admin.screenshot({ path: 'docs/admin-console.png', fullPage: true });
    await hospitals[0].page.screenshot({ path: 'docs/hospital-tab.png', fullPage: true });
  }

  // A round opens to its detail: its timeline from opening to publication, the bytes it moved, and
  // each update's norm against the round's clipping bound with each site's weight.
  const toggle = admin.locator(`[data-testid="metrics-row"][data-round="${ROUNDS}"]`).getByRole('button', { name: `Round ${ROUNDS} details` });
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  const detail = admin.locator(`[data-testid="round-detail"][data-round="${ROUNDS}"]`);
  const timeline = detail.getByTestId('round-timeline');
  await expect(timeline).toBeVisible();
  await expect(timeline.locator('li').first()).toHaveText(/^opened\s*\+0 s/);
  for (const moment of ['first update', 'quorum (3)', 'last update', 'aggregation began', `published v${ROUNDS}`]) await expect(timeline).toContainText(moment);
  const norms = detail.getByTestId('round-norms-chart');
  await expect(norms).toBeVisible();
  await expect(norms).toHaveAttribute('data-points', '3');
  // One symbol drawn per update (Recharts also renders an empty one where a series has no value for an update).
  await expect(norms.locator('.recharts-scatter-symbol:visible')).toHaveCount(3);
  await expect(norms.locator('.recharts-reference-line')).toHaveCount(1);
  await expect(norms.getByText('L2 norm')).toBeVisible();
  await expect(norms.getByText('Update (site)')).toBeVisible();
  await expect(detail.getByTestId('round-site')).toHaveCount(3);
  await expect(detail.getByTestId('round-bytes-in')).toHaveText(/^\d+(\.\d+)? kB · 3 accepted: /);
  await expect(detail.getByTestId('round-bytes-out')).toHaveText(new RegExp(`· base v${ROUNDS - 1}: .* in \\d+ downloads? · result v${ROUNDS}: `));
  // The rounds table with the round opened, at the viewport's 1,280 px.
  const roundsPanel = admin.locator('section[aria-labelledby="rounds-title"]');
  await roundsPanel.scrollIntoViewIfNeeded();
  await roundsPanel.screenshot({ path: test.info().outputPath('round-detail.png') });
});
