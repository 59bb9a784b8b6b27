import { expect, test } from './support/fixtures';

// No hospital joins: this spec is about the console's study administration, not training.
test('an admin creates a study in the console, then pauses, resumes, reconfigures and stops it', async ({ openAdmin, consilium }, testInfo) => {
  const page = await openAdmin();
  await page.getByRole('link', { name: 'New study' }).first().click();
  await expect(page).toHaveURL(/\/admin\/new-study$/);
  await expect(page.getByRole('heading', { name: 'New study', level: 1 })).toBeVisible();

  await page.getByLabel('Template').selectOption('heart-risk');
  await page.getByLabel('Name', { exact: true }).fill('Heart risk, spring cohort');
  await expect(page.getByLabel('Study id')).toHaveValue('heart-risk-spring-cohort');
  await expect(page.getByLabel('Rounds', { exact: true })).toHaveValue('10');
  await page.getByLabel('Rounds', { exact: true }).fill('4');
  await page.getByLabel('Min. participants').fill('2');
  await page.getByLabel('Participant fraction').fill('0.5');
  const hospital = consilium.hospitals[0];
  await page.getByRole('checkbox', { name: new RegExp(hospital.name) }).check();

  // A setting that contradicts another is refused in place, naming both.
  await page.getByLabel('Min. updates').fill('3');
  await page.getByRole('button', { name: 'Create study' }).click();
  await expect(page.getByRole('alert')).toContainText('minUpdates (3) cannot exceed minParticipants (2)');
  await page.getByLabel('Min. updates').fill('2');
  await page.screenshot({ path: testInfo.outputPath('new-study.png'), fullPage: true });

  await page.getByRole('button', { name: 'Create study' }).click();
  await expect(page).toHaveURL(/\/admin\?study=heart-risk-spring-cohort$/);
  await expect(page.getByTestId('study-name')).toHaveText('Heart risk, spring cohort');
  await expect(page.getByTestId('study-status')).toHaveText('waiting');
  await expect(page.getByTestId('rounds-total')).toHaveText('4');
  await expect(page.getByTestId('config-summary')).toContainText('50 % of online, ≥ 2');

  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('study-status')).toHaveText('paused');
  await expect(page.getByTestId('paused-note')).toBeVisible();
  await page.locator('.study-head').screenshot({ path: testInfo.outputPath('paused.png') });
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByTestId('study-status')).toHaveText('waiting');

  await page.getByRole('button', { name: 'Edit configuration' }).click();
  const form = page.getByRole('form', { name: 'Edit configuration' });
  await expect(form.getByLabel('Seed')).toBeDisabled();
  await form.getByLabel('Local epochs').fill('3');
  // Another strategy brings its own settings, at their defaults, to edit in place.
  await form.getByLabel('Strategy', { exact: true }).selectOption('fedyogi');
  await expect(form.getByLabel('Server β₂')).toHaveValue('0.99');
  await form.getByLabel('Server learning rate').fill('0.05');
  await form.screenshot({ path: testInfo.outputPath('edit-config.png') });
  await form.getByRole('button', { name: 'Save 2 changes' }).click();
  const history = page.getByTestId('config-history');
  await expect(history).toContainText('localEpochs 2 → 3');
  await expect(history).toContainText('fedyogi');
  await expect(page.getByTestId('config-summary')).toContainText('fedyogi (server learning rate 0.05, server β₁ 0.5, server β₂ 0.99, server τ 0.001)');
  await expect(history).toContainText(consilium.admin.email);
  await expect(history).toContainText('from round 1');
  await expect(page.getByTestId('config-summary')).toContainText('adaptive, to the median update norm');

  // Clipping can be turned off, and the console says what that risks, before and after saving.
  await page.getByRole('button', { name: 'Edit configuration' }).click();
  await expect(form.getByTestId('no-clipping-warning')).toHaveCount(0);
  await form.getByLabel('Update clipping').selectOption('none');
  await expect(form.getByTestId('no-clipping-warning')).toContainText('one site’s update can move the shared model as far as it likes');
  await form.getByRole('button', { name: 'Save 1 change' }).click();
  await expect(page.getByTestId('config-summary')).toContainText('none: one site can move the model as far as it likes');

  await page.getByRole('button', { name: 'Stop…' }).click();
  await page.screenshot({ path: testInfo.outputPath('study-controls.png'), fullPage: true });
  await page.getByRole('button', { name: 'Stop the study' }).click();
  await expect(page.getByTestId('study-status')).toHaveText('stopped');
  await expect(page.getByRole('button', { name: 'Pause' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Edit configuration' })).toHaveCount(0);
});
