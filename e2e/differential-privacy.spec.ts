import fs from 'node:fs';
import type { BrowserContext, Page } from '@playwright/test';
import { studySpent } from '../shared/fl/privacy/sitePrivacy';
import type { AuditPage } from '../shared/protocol/accounts';
import { adminApi } from './support/adminApi';
import { expect, test } from './support/fixtures';
import type { ConsiliumServer } from './support/server';

/**
 * Site-level differential privacy, as an admin and three hospitals see it: the New study form plans
 * what a study will spend and warns when the federation is too small for the ε asked; a study whose
 * budget allows 2 of its 4 rounds spends ε round by round and stops itself before the third.
 */

const NAME = 'Heart risk, private';
const STUDY = 'heart-risk-private';
const ROUNDS = 4;
// q = 1, z = 1, δ 1e-5: ε(1) ≈ 4.73, ε(2) ≈ 7.08, ε(3) ≈ 9.01, so a budget of 8 allows exactly 2 rounds.
const MECHANISM = { sampleRate: 1, noiseMultiplier: 1, delta: 1e-5 };
const BUDGET = 8;
const eps = (rounds: number) => studySpent(MECHANISM, rounds).epsilon;
/** ε as the console and the tab print it: three significant figures. */
const shown = (x: number) => Number(x.toPrecision(3)).toString();

/** Screenshots for a person to look at; outside the repository. */
const SHOTS = process.env.DP_SHOTS_DIR ?? '/tmp/dp-shots';

/** The New study form for a heart-risk study of 4 rounds over the three demo heart hospitals, 1 local epoch each. */
async function openNewStudyForm(admin: Page, consilium: ConsiliumServer): Promise<void> {
  await admin.getByRole('link', { name: 'New study' }).first().click();
  await expect(admin.getByRole('heading', { name: 'New study', level: 1 })).toBeVisible();
  await admin.getByLabel('Template').selectOption('heart-risk');
  await admin.getByLabel('Name', { exact: true }).fill(NAME);
  await expect(admin.getByLabel('Study id')).toHaveValue(STUDY);
  await admin.getByLabel('Rounds', { exact: true }).fill(String(ROUNDS));
  await admin.getByLabel('Min. participants').fill('3');
  // Long enough that a round closes because all three delivered, never at its deadline, on a loaded machine.
  await admin.getByLabel('Round deadline (s)').fill('180');
  await admin.getByLabel('Local epochs').fill('1');
  for (const h of consilium.hospitals.slice(0, 3)) await admin.getByRole('checkbox', { name: new RegExp(h.name) }).check();
}

const numberAttr = async (page: Page, testId: string, attr: string) => Number(await page.getByTestId(testId).getAttribute(attr));

/** Holds a hospital's upload for `round` until `release()`, so a state between rounds can be looked at. */
async function holdUpload(context: BrowserContext, round: number) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let arrived!: () => void;
  const held = new Promise<void>((r) => (arrived = r));
  await context.route(`**/api/studies/${STUDY}/rounds/${round}/updates`, async (route) => {
    arrived();
    await released;
    await route.continue();
  });
  return { held, release };
}

test('the New study form plans the ε a private study spends, and warns when the sites are too few', async ({ openAdmin, consilium }) => {
  const admin = await openAdmin();
  await openNewStudyForm(admin, consilium);
  const privacy = admin.getByTestId('privacy-fields');
  await expect(privacy.getByLabel('Clip norm C')).toHaveCount(0);
  const strategy = admin.getByLabel('Strategy', { exact: true });
  await expect(strategy.locator('option[value="median"]')).toBeEnabled();

  await privacy.getByRole('checkbox', { name: 'Protect each site with differential privacy' }).check();
  // A target ε is the default: the form computes the noise for it over the study's 4 rounds.
  await expect(privacy.getByRole('radio', { name: 'Set a target ε' })).toBeChecked();
  await expect(privacy.getByLabel('Target ε (whole study)')).toHaveValue('8');
  await expect(privacy.getByTestId('privacy-computed-noise')).toHaveText(/^\d+(\.\d+)?$/);
  const noiseAt8 = Number(await privacy.getByTestId('privacy-computed-noise').textContent());
  await expect(privacy.getByTestId('privacy-rounds-allowed')).toHaveAttribute('data-value', String(ROUNDS));
  await expect(privacy.getByTestId('privacy-rounds-allowed')).toHaveText(`${ROUNDS} of ${ROUNDS} rounds`);
  const plannedAt8 = await numberAttr(admin, 'privacy-planned-epsilon', 'data-value');
  expect(plannedAt8).toBeLessThanOrEqual(8);
  expect(plannedAt8).toBeGreaterThan(7);

  // A small target ε over three sites: far more noise, and the form says the federation is too small.
  await privacy.getByLabel('Target ε (whole study)').fill('1');
  await expect(privacy.getByTestId('privacy-planned-epsilon')).toHaveText(/^ε (0\.9\d*|1)$/);
  const noiseAt1 = Number(await privacy.getByTestId('privacy-computed-noise').textContent());
  expect(noiseAt1).toBeGreaterThan(noiseAt8);
  // The budget followed the target.
  await expect(privacy.getByLabel('ε budget')).toHaveValue('1');
  await expect(privacy.getByTestId('privacy-rounds-allowed')).toHaveAttribute('data-value', String(ROUNDS));
  const warnings = privacy.getByTestId('privacy-warnings');
  await expect(warnings).toContainText('3 sites are too few for this privacy');
  await expect(warnings).toContainText('the model will stay near chance');

  // Robust rules and late updates are off, each with its reason; so are the study's own clipping and sampling.
  await expect(strategy.locator('option[value="median"]')).toBeDisabled();
  await expect(strategy.locator('option[value="krum"]')).toBeDisabled();
  await expect(strategy.locator('option[value="fedavg"]')).toBeEnabled();
  await expect(admin.getByTestId('dp-unavailable-strategy')).toContainText('Only the mean rules under differential privacy: robust rules (median, trimmed mean, Krum)');
  await expect(admin.getByTestId('dp-unavailable-straggler')).toContainText('Accepting late updates is unavailable under differential privacy');
  await expect(admin.getByLabel('Update clipping')).toBeDisabled();
  await expect(admin.getByLabel('Participant fraction')).toBeDisabled();
  await privacy.getByText('Unavailable under differential privacy').click();
  await expect(privacy.getByTestId('privacy-unavailable')).toContainText('Robust strategies: robust rules (median, trimmed mean, Krum)');

  fs.mkdirSync(SHOTS, { recursive: true });
  await privacy.screenshot({ path: `${SHOTS}/a-new-study-privacy-warning.png` });

  // The noise set by hand: z = 1 over 4 rounds spends ε(4) ≈ 10.7, past a budget of 1: no round fits.
  await privacy.getByRole('radio', { name: 'Set the noise' }).check();
  await expect(privacy.getByLabel('Noise multiplier z')).toHaveValue('1');
  await expect(privacy.getByTestId('privacy-planned-epsilon')).toHaveText(`ε ${shown(eps(ROUNDS))}`);
  await expect(privacy.getByTestId('privacy-rounds-allowed')).toHaveAttribute('data-value', '0');
  await expect(warnings).toContainText(`The budget ε 1 allows no round: one round spends ε ${shown(eps(1))}.`);
  // A budget of 8 allows 2 of the 4 rounds. With z = 1 the noise is no longer "too few" sites' worth,
  // though it still costs accuracy: √385 · z / (q · 3 sites) ≈ 6.5 × one site's largest update.
  await privacy.getByLabel('ε budget').fill(String(BUDGET));
  await expect(privacy.getByTestId('privacy-rounds-allowed')).toHaveAttribute('data-value', '2');
  await expect(privacy.getByTestId('privacy-rounds-allowed')).toHaveText(`2 of ${ROUNDS} rounds`);
  await expect(warnings.locator('li')).toHaveText([
    `The budget ε ${BUDGET} allows 2 of the ${ROUNDS} rounds: the study stops itself after round 2.`,
    /^With 3 sites, each round’s noise is 6\.54 × the largest update one site may send: expect the model to lose accuracy/,
  ]);
  await admin.getByTestId('privacy-plan').screenshot({ path: `${SHOTS}/a2-new-study-privacy-plan.png` });
});

test('a private study across three hospital tabs spends ε round by round and stops itself at its budget', async ({ consilium, openAdmin, openHospitals }) => {
  test.setTimeout(300_000);
  const admin = await openAdmin();

  // The admin creates the study through the form: z = 1, q = 1, budget 8 over 4 rounds.
  await openNewStudyForm(admin, consilium);
  const form = admin.getByTestId('privacy-fields');
  await form.getByRole('checkbox', { name: 'Protect each site with differential privacy' }).check();
  await form.getByRole('radio', { name: 'Set the noise' }).check();
  await form.getByLabel('Clip norm C').fill('1');
  await form.getByLabel('Noise multiplier z').fill(String(MECHANISM.noiseMultiplier));
  await form.getByLabel('Sampling rate q').fill(String(MECHANISM.sampleRate));
  await form.getByLabel('ε budget').fill(String(BUDGET));
  await expect(form.getByTestId('privacy-rounds-allowed')).toHaveAttribute('data-value', '2');
  await admin.getByRole('button', { name: 'Create study' }).click();
  await expect(admin).toHaveURL(new RegExp(`/admin\\?study=${STUDY}$`));
  await expect(admin.getByTestId('study-name')).toHaveText(NAME);
  await expect(admin.getByRole('heading', { name: 'Privacy spent (ε)' })).toBeVisible();
  const spent = admin.getByTestId('privacy-spent');
  await expect(spent).toHaveText(`ε 0 of ${BUDGET} (δ 1e-5) · 0 rounds`);
  await expect(admin.getByTestId('privacy-settings')).toContainText('Fixed for the study’s life');

  // Three hospital tabs open the private study (each is also in the demo study) and join it.
  const hospitals = await openHospitals(3, { join: false });
  for (const h of hospitals) {
    await h.page.getByRole('combobox', { name: 'Study' }).selectOption(STUDY);
    await expect(h.page.getByTestId('study-name')).toHaveText(NAME);
    await expect(h.page.getByTestId('privacy-status')).toHaveText(/^Privacy: ε 0 of 8 spent \(δ 1e-5\)\./);
  }
  // One hospital's uploads wait at each round, so the console can be read between rounds.
  const slow = hospitals[2];
  const round1 = await holdUpload(slow.context, 1);
  const round2 = await holdUpload(slow.context, 2);
  for (const h of hospitals) await h.page.getByTestId('join-button').click();
  await expect(admin.getByTestId('participant-row')).toHaveCount(3);

  // Round 1 open: it has spent already (every opened round counts); nothing is released yet.
  await round1.held;
  await expect(spent).toHaveAttribute('data-epsilon', String(eps(1)));
  await expect(spent).toHaveText(`ε ${shown(eps(1))} of ${BUDGET} (δ 1e-5) · 1 round`);
  await expect(admin.getByTestId('privacy-chart')).toHaveAttribute('data-points', '0');
  await expect(admin.getByTestId('round-epsilon')).toHaveCount(1);
  round1.release();

  // Round 2 open: ε(2) spent; the chart has round 1's point; each hospital's line says round 1's ε.
  await round2.held;
  await expect(spent).toHaveAttribute('data-epsilon', String(eps(2)));
  await expect(spent).toHaveText(`ε ${shown(eps(2))} of ${BUDGET} (δ 1e-5) · 2 rounds`);
  await expect(admin.getByTestId('privacy-chart')).toHaveAttribute('data-points', '1');
  const cells = admin.getByTestId('round-epsilon');
  await expect(cells).toHaveCount(2);
  await expect(cells.nth(0)).toHaveAttribute('data-value', String(eps(1)));
  await expect(cells.nth(1)).toHaveAttribute('data-value', String(eps(2)));
  await expect(admin.getByTestId('privacy-budget-stop')).toHaveCount(0);
  for (const h of hospitals) {
    const line = h.page.getByTestId('privacy-status');
    await expect(line).toHaveText(new RegExp(`^Privacy: ε ${shown(eps(1)).replace('.', '\\.')} of 8 spent \\(δ 1e-5\\)\\.`));
    await expect(line).toHaveAttribute('data-exhausted', 'false');
  }
  await hospitals[0].page.screenshot({ path: `${SHOTS}/c1-hospital-privacy-line.png`, fullPage: true });
  round2.release();

  // Round 2 closes with the study stopped: a third round would take ε to ε(3) > 8.
  const stop = admin.getByTestId('privacy-budget-stop');
  await expect(stop).toBeVisible({ timeout: 120_000 });
  await expect(stop).toHaveRole('status');
  await expect(stop).toContainText(`Stopped: privacy budget spent (ε ${shown(eps(2))} of ${BUDGET})`);
  await expect(admin.getByTestId('study-status')).toHaveText('stopped');
  await expect(admin.getByTestId('study-finished')).toHaveText(new RegExp(`^Stopped: privacy budget spent \\(ε ${shown(eps(2)).replace('.', '\\.')} of 8\\) after 2 rounds`));
  await expect(spent).toHaveText(`Stopped: privacy budget spent (ε ${shown(eps(2))} of ${BUDGET}) · 2 rounds`);
  await expect(admin.getByTestId('privacy-chart')).toHaveAttribute('data-points', '2');
  await expect(admin.getByTestId('privacy-chart').locator('.recharts-line-dot')).toHaveCount(3);
  await expect(admin.getByTestId('privacy-chart').locator('.recharts-reference-line')).toHaveCount(1);
  await expect(admin.getByTestId('privacy-chart').getByText(`budget ε ${BUDGET}`)).toBeVisible();
  // The ε axis reads in even steps up to just above the budget.
  await expect(admin.getByTestId('privacy-chart').locator('.recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value')).toHaveText(['0', '2', '4', '6', '8', '10']);
  // Every site has more training records than the record cap (100): each weighs 1, and the table says by what rule.
  await expect(admin.getByTestId('round-bounds').first()).toContainText('bound 1.000 (fixed); weight capped at the record cap (100): hospital-a');
  // Stopped is final: no version offers to continue the study.
  await expect(admin.getByTestId('version-row')).toHaveCount(3);
  await expect(admin.getByRole('button', { name: 'Continue from here' })).toHaveCount(0);
  for (const h of hospitals) {
    const line = h.page.getByTestId('privacy-status');
    await expect(line).toHaveText(
      new RegExp(`^Privacy: budget spent \\(ε ${shown(eps(2)).replace('.', '\\.')} of 8, δ 1e-5\\): the study stopped at its privacy budget\\.`),
    );
    await expect(line).toHaveAttribute('data-exhausted', 'true');
    await expect(h.page.getByTestId('rounds-done')).toHaveText('2');
    // Once it has evaluated the last version, the tab waits for nothing and says so.
    await expect(h.page.locator('.state-banner')).toHaveText(/^idle\s*The study has stopped: no round will open again$/, { timeout: 60_000 });
  }

  // No third round opened, and the stop is in the audit log.
  const api = await adminApi(consilium);
  const d = await api.dashboard(STUDY);
  expect(d.rounds.map((r) => [r.round, r.status, r.received, r.sampled])).toEqual([
    [1, 'closed', 3, 3],
    [2, 'closed', 3, 3],
  ]);
  expect(d.study).toMatchObject({ status: 'stopped', completedRounds: 2, currentVersion: 2 });
  expect(d.study.privacy).toMatchObject({ rounds: 2, budget: BUDGET, exhausted: true });
  await api.dispose();
  const audit = (await (await admin.request.get(`${consilium.url}/api/audit?action=study.privacy_budget_spent&studyId=${STUDY}`)).json()) as AuditPage;
  expect(audit.events).toHaveLength(1);
  expect(audit.events[0]).toMatchObject({ target: 'after round 2' });
  await expect(admin.getByTestId('round-epsilon')).toHaveCount(2);

  await admin.screenshot({ path: `${SHOTS}/b-dashboard-after-stop.png`, fullPage: true });
  await admin.locator('.privacy-panel').screenshot({ path: `${SHOTS}/b2-privacy-chart.png` });
  await hospitals[0].page.screenshot({ path: `${SHOTS}/c2-hospital-budget-spent.png`, fullPage: true });
});
