import type { Page } from '@playwright/test';
import type { StudySummary } from '../shared/protocol/schemas';
import type { TaskTemplate } from '../shared/tasks';
import { SEPSIS_DICTIONARY, sepsisExport } from './support/sepsisExport';
import { expect, test } from './support/fixtures';

/*
 * Issue 20: a consortium's own question, without code. The platform admin defines a tabular study in
 * the console from the consortium's data dictionary, creates a study from it and enrols two hospitals;
 * each hospital imports its own export in that layout (its own dialect) and the study trains across
 * the tabs, round after round, to the end.
 */

test.use({ serverOptions: { env: { DEMO_ROUNDS: '1' } } });

const STUDY = 'sepsis-48h-pilot';

async function importExport(page: Page, name: string, text: string) {
  await page.getByTestId('csv-file-input').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(text) });
  await expect(page.getByTestId('import-review')).toBeVisible();
  await expect(page.getByTestId('import-rejected')).toHaveText('0');
  await page.getByTestId('import-commit').click();
  await expect(page.getByTestId('records-count')).toHaveText(/^[1-9]\d*$/, { timeout: 60_000 });
}

test('a study defined in the console from a data dictionary trains across hospital tabs on their own exports', async ({ consilium, openAdmin, openHospitals }, testInfo) => {
  const admin = await openAdmin();
  await admin.getByRole('link', { name: 'Define a study' }).click();
  await expect(admin).toHaveURL(/\/admin\/templates\/new$/);

  // The dictionary: every column but the record number becomes a feature; the label row its label and rule.
  await admin.getByLabel('Data dictionary (CSV)').setInputFiles({ name: 'sepsis-dictionary.csv', mimeType: 'text/csv', buffer: Buffer.from(SEPSIS_DICTIONARY) });
  await expect(admin.getByTestId('dictionary-result')).toContainText('5 features');
  await admin.getByLabel('Study id').fill('sepsis-48h');
  await admin.getByLabel('Study name').fill('Sepsis within 48 hours');
  // Logistic regression first, then an MLP of one hidden layer of 8: the parameter count follows the model.
  // Inputs: age, lactate, resp_rate, fever (1 each) + ward (3 codes) = 7, and a missing indicator each = 12.
  await admin.getByRole('radio', { name: /Logistic regression/ }).check();
  await expect(admin.getByTestId('parameter-count')).toHaveText('13 parameters');
  await admin.getByRole('radio', { name: /MLP/ }).check();
  await admin.getByLabel('Hidden layer 1 units').fill('8');
  await expect(admin.getByTestId('parameter-count')).toHaveText('113 parameters');
  await admin.screenshot({ path: testInfo.outputPath('study-designer.png'), fullPage: true });
  await admin.getByRole('button', { name: 'Save study definition' }).click();
  await expect(admin.getByTestId('design-saved')).toContainText('sepsis-48h');

  // The exported definition is what every tab registers and what import:check reads.
  const exported = (await (await admin.request.get(`${consilium.url}/api/templates/sepsis-48h`)).json()) as TaskTemplate;
  expect(exported).toMatchObject({ id: 'sepsis-48h', version: 1, label: { name: 'sepsis', rule: { kind: 'match', positive: ['1', 'sepsis'] } } });
  expect(exported.features.map((f) => f.name)).toEqual(['age', 'lactate', 'resp_rate', 'fever', 'ward']);

  // A study from it: two rounds, both hospitals needed.
  await admin.getByRole('button', { name: 'Create a study from it' }).click();
  await expect(admin).toHaveURL(/\/admin\/new-study\?template=sepsis-48h$/);
  await expect(admin.getByLabel('Template')).toHaveValue('sepsis-48h');
  await admin.getByLabel('Name', { exact: true }).fill('Sepsis pilot');
  await admin.getByLabel('Study id').fill(STUDY);
  await admin.getByLabel('Rounds', { exact: true }).fill('2');
  await admin.getByLabel('Min. participants').fill('2');
  await admin.getByLabel('Local epochs').fill('2');
  const hospitals = consilium.hospitals.slice(0, 2);
  for (const h of hospitals) await admin.getByRole('checkbox', { name: new RegExp(h.name) }).check();
  await admin.getByRole('button', { name: 'Create study' }).click();
  await expect(admin).toHaveURL(new RegExp(`/admin\\?study=${STUDY}$`));
  await expect(admin.getByTestId('study-name')).toHaveText('Sepsis pilot');
  await expect(admin.getByTestId('rounds-total')).toHaveText('2');
  // The console draws the custom model as the tabs will build it.
  await expect(admin.getByTestId('model-panel')).toContainText('Sepsis within 48 hours');

  // Each hospital picks the new study, imports its export in the custom layout and joins.
  const tabs = await openHospitals(2, { join: false });
  const exports = [sepsisExport({ seed: 101, rows: 240 }), sepsisExport({ seed: 202, rows: 200, words: true, severity: 1 })];
  for (const [k, tab] of tabs.entries()) {
    await tab.page.getByTestId('study-picker').selectOption(STUDY);
    await expect(tab.page.getByText('Sepsis within 48 hours').first()).toBeVisible();
    await importExport(tab.page, `hospital-${k + 1}-export.csv`, exports[k]);
  }
  await tabs[1].page.screenshot({ path: testInfo.outputPath('custom-study-hospital.png'), fullPage: true });
  for (const tab of tabs) await tab.page.getByTestId('join-button').click();

  // Two rounds close with both sites' updates; the study completes at model v2.
  await expect
    .poll(
      async () => {
        const res = await admin.request.get(`${consilium.url}/api/studies/${STUDY}`);
        const s = (await res.json()) as StudySummary;
        return `${s.status} v${s.currentVersion}`;
      },
      { timeout: 180_000, intervals: [1000] },
    )
    .toBe('completed v2');
  await admin.reload();
  await expect(admin.getByTestId('study-status')).toHaveText('completed');
  await admin.screenshot({ path: testInfo.outputPath('custom-study-console.png'), fullPage: true });
});
