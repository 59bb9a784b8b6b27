import { stepsWithinBudget } from '../shared/fl/privacy/recordLevel';
import { expect, test } from './support/fixtures';

/**
 * Record-level differential privacy (DP-SGD in every tab), as an admin and three hospitals see it:
 * the New study form shows the local steps each site's budget allows before the study starts; the
 * tabs train with DP-SGD, each shows its own ε, the console every site's; the smallest site stops at
 * its budget while the others finish the study.
 */

const NAME = 'Heart risk, DP-SGD';
const STUDY = 'heart-risk-dp-sgd';
const BUDGET = 3;
const BATCH = 32;
const STEPS = 2;
const ROUNDS = 3;

test('a DP-SGD study across three tabs: each site’s ε on its tab and in the console, the smallest site stopped at its budget', async ({ consilium, openAdmin, openHospitals }) => {
  test.setTimeout(240_000);
  const admin = await openAdmin();
  await admin.getByRole('link', { name: 'New study' }).first().click();
  await admin.getByLabel('Template').selectOption('heart-risk');
  await admin.getByLabel('Name', { exact: true }).fill(NAME);
  await expect(admin.getByLabel('Study id')).toHaveValue(STUDY);
  await admin.getByLabel('Rounds', { exact: true }).fill(String(ROUNDS));
  await admin.getByLabel('Min. participants').fill('2');
  await admin.getByLabel('Round deadline (s)').fill('180');
  await admin.getByLabel('Local work per round').selectOption('steps');
  await admin.getByLabel('Local steps').fill(String(STEPS));
  await admin.getByLabel('Batch size').fill(String(BATCH));
  for (const h of consilium.hospitals.slice(0, 3)) await admin.getByRole('checkbox', { name: new RegExp(h.name) }).check();

  // Off by default; on, the seed platform's settings, and what each site's budget allows before the start.
  const fields = admin.getByTestId('record-privacy-fields');
  await fields.getByRole('checkbox', { name: /Protect each patient record with DP-SGD/ }).check();
  await expect(fields.getByLabel('Noise multiplier z')).toHaveValue('1.1');
  await expect(fields.getByLabel('Per-record clip C')).toHaveValue('1');
  await expect(fields.getByLabel('Budget ε per site')).toHaveValue('1');
  // At ε 1 a site of 200 records (q 0.16) may not take a single step: the plan says so.
  const small = fields.locator('[data-testid="record-plan-row"][data-records="200"]');
  await expect(small).toHaveAttribute('data-steps', String(stepsWithinBudget({ sampleRate: 0.16, noiseMultiplier: 1.1, delta: 1e-5, epsilonBudget: 1 })));
  await fields.getByLabel('Budget ε per site').fill(String(BUDGET));
  for (const records of [200, 1_000, 5_000])
    await expect(fields.locator(`[data-testid="record-plan-row"][data-records="${records}"]`)).toHaveAttribute(
      'data-steps',
      String(stepsWithinBudget({ sampleRate: Math.min(1, BATCH / records), noiseMultiplier: 1.1, delta: 1e-5, epsilonBudget: BUDGET })),
    );
  await admin.getByRole('button', { name: 'Create study' }).click();
  await expect(admin).toHaveURL(new RegExp(`/admin\\?study=${STUDY}$`));
  const panel = admin.getByTestId('record-privacy-panel');
  await expect(panel.getByTestId('record-privacy-site')).toHaveCount(3);
  await expect(panel).toContainText('not trained yet');

  // Three hospitals (600, 350 and 200 records) open the study and join it.
  const hospitals = await openHospitals(3, { join: false });
  for (const h of hospitals) {
    await h.page.getByRole('combobox', { name: 'Study' }).selectOption(STUDY);
    await expect(h.page.getByTestId('study-name')).toHaveText(NAME);
    await expect(h.page.getByTestId('record-privacy-status')).toHaveText(new RegExp(`^Record-level privacy: this site has spent ε 0 of its ${BUDGET} \\(δ 1e-5\\)`));
  }
  for (const h of hospitals) await h.page.getByTestId('join-button').click();

  await expect(admin.getByTestId('study-status')).toHaveText('completed', { timeout: 180_000 });
  // The smallest site (160 training records: q = 0.2) had budget for one round of 2 steps; the others trained every round they were in.
  const smallest = consilium.hospitals[2].name;
  const rows = panel.getByTestId('record-privacy-site');
  await expect(panel.locator(`[data-testid="record-privacy-site"][data-site="${smallest}"]`)).toHaveAttribute('data-exhausted', 'true');
  await expect(panel.locator(`[data-testid="record-privacy-site"][data-site="${smallest}"]`)).toContainText('budget reached');
  for (const h of consilium.hospitals.slice(0, 2)) await expect(panel.locator(`[data-testid="record-privacy-site"][data-site="${h.name}"]`)).toHaveAttribute('data-exhausted', 'false');
  const spent = (await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-epsilon'))))) as number[];
  expect(spent.every((e) => e > 0 && e <= BUDGET)).toBe(true);

  // Each tab shows its own ε; the stopped site's says it trains no more and may close.
  const line = (k: number) => hospitals[k].page.getByTestId('record-privacy-status');
  await expect(line(2)).toHaveAttribute('data-exhausted', 'true');
  await expect(line(2)).toContainText('Record-level privacy budget reached');
  await expect(line(2)).toContainText('you can close this tab');
  for (const k of [0, 1]) {
    await expect(line(k)).toHaveAttribute('data-exhausted', 'false');
    await expect(line(k)).toHaveText(/this site has spent ε [0-9.]+ of its 3 \(δ 1e-5\) over [1-9]\d* local steps/);
  }
});
