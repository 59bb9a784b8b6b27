import fs from 'node:fs';
import { adminApi } from './support/adminApi';
import { expect, test } from './support/fixtures';

/**
 * Secure aggregation across browser tabs: an admin creates a secure study in the console; the three
 * demo heart hospitals' tabs train it, each sending its update masked from its training worker
 * (WebCrypto); one tab is closed in the middle of the round, after it shared its keys and before its
 * masked update went out, and the round still closes with the other two's sum (the threshold is
 * ⌊3/2⌋ + 1 = 2). The server never holds an update.
 */

const NAME = 'Heart risk, secure';
const STUDY = 'heart-risk-secure';
const ROUNDS = 1;
const CLIP = 2;

/** Screenshots for a person to look at; outside the repository. */
const SHOTS = process.env.SECAGG_SHOTS_DIR ?? '/tmp/secagg-shots';

test('a secure study across three hospital tabs closes its round with the sum, one tab closed mid-round', async ({ consilium, openAdmin, openHospitals }) => {
  test.setTimeout(300_000);
  const admin = await openAdmin();
  fs.mkdirSync(SHOTS, { recursive: true });

  // The New study form: secure aggregation on leaves a mean rule, late updates dropped and a fixed clip each site applies.
  await admin.getByRole('link', { name: 'New study' }).first().click();
  await expect(admin.getByRole('heading', { name: 'New study', level: 1 })).toBeVisible();
  await admin.getByLabel('Template').selectOption('heart-risk');
  await admin.getByLabel('Name', { exact: true }).fill(NAME);
  await expect(admin.getByLabel('Study id')).toHaveValue(STUDY);
  await admin.getByLabel('Rounds', { exact: true }).fill(String(ROUNDS));
  await admin.getByLabel('Min. participants').fill('3');
  await admin.getByLabel('Round deadline (s)').fill('180');
  await admin.getByLabel('Local epochs').fill('1');
  const hospitalsEnrolled = consilium.hospitals.slice(0, 3);
  for (const h of hospitalsEnrolled) await admin.getByRole('checkbox', { name: new RegExp(h.name) }).check();
  const fields = admin.getByTestId('secure-aggregation-fields');
  await fields.getByRole('checkbox', { name: /Hide each site’s update from the server/ }).check();
  await expect(fields.getByTestId('secure-aggregation-rules-out')).toContainText('Robust strategies');
  await expect(admin.getByLabel('Strategy', { exact: true }).locator('option[value="median"]')).toBeDisabled();
  await expect(admin.getByLabel('Update clipping')).toBeDisabled();
  await expect(admin.getByLabel('Update clipping')).toHaveValue('fixed');
  await admin.getByLabel('Clipping norm').fill(String(CLIP));
  await fields.screenshot({ path: `${SHOTS}/a-new-study-secure.png` });
  await admin.getByRole('button', { name: 'Create study' }).click();
  await expect(admin).toHaveURL(new RegExp(`/admin\\?study=${STUDY}$`));
  await expect(admin.getByTestId('study-name')).toHaveText(NAME);
  await expect(admin.getByTestId('secure-aggregation-settings')).toContainText('The server cannot check that it did');

  // Three hospital tabs open the study and join it; the third's masked update is held back.
  const hospitals = await openHospitals(3, { join: false });
  for (const h of hospitals) {
    await h.page.getByRole('combobox', { name: 'Study' }).selectOption(STUDY);
    await expect(h.page.getByTestId('study-name')).toHaveText(NAME);
    await expect(h.page.getByTestId('secure-aggregation-status')).toContainText(`clipped to norm ${CLIP}, masked`);
  }
  const leaving = hospitals[2];
  let held!: () => void;
  const maskedHeld = new Promise<void>((r) => (held = r));
  await leaving.context.route(`**/api/studies/${STUDY}/rounds/1/masked`, () => held());
  for (const h of hospitals) await h.page.getByTestId('join-button').click();
  await expect(admin.getByTestId('participant-row')).toHaveCount(3);

  // The third tab trained and masked its update (its keys and shares are out): it closes before sending it.
  await maskedHeld;
  await expect(leaving.page.locator('ol.activity')).toContainText('opened under secure aggregation');
  await leaving.context.close();

  // The round closes with the two others' sum.
  const stayed = hospitals.slice(0, 2);
  for (const h of stayed) await expect(h.page.getByTestId('rounds-done')).toHaveText(String(ROUNDS), { timeout: 180_000 });
  for (const h of stayed) {
    const activity = h.page.locator('ol.activity');
    await expect(activity).toContainText('Round 1: masked update from');
    await expect(activity).toContainText('the coordinator sees only the sum of the sites’ updates');
    await expect(activity).toContainText('Round 1 closed with 2 update(s): model version 1.');
  }
  await stayed[0].page.screenshot({ path: `${SHOTS}/b-hospital-secure.png`, fullPage: true });

  const api = await adminApi(consilium);
  const d = await api.dashboard(STUDY);
  expect(d.rounds.map((r) => [r.round, r.status, r.version, r.sampled])).toEqual([[1, 'closed', 1, 3]]);
  expect(d.study).toMatchObject({ completedRounds: ROUNDS, currentVersion: ROUNDS, status: 'completed' });
  // The round's report: three sampled, two survivors' sum, and no single update.
  const detail = (await (await admin.request.get(`${consilium.url}/api/studies/${STUDY}/rounds/1`)).json()) as {
    updates?: unknown[];
    report?: { secureAggregation?: { sampled: number; survivors: number[] }; updates: unknown[] };
  };
  await api.dispose();
  fs.writeFileSync(`${SHOTS}/round-1-detail.json`, JSON.stringify(detail, null, 2));
  // The console's rounds table: two of three sites in the sum, the clip the sites' own, and no per-site norm.
  const row = admin.locator('[data-round="1"]');
  await expect(row).toContainText('2/3');
  await expect(row.getByTestId('round-bounds')).toHaveText('bound 2.000, applied by each site: the server cannot check it; secure sum of 2 of 3 sites (threshold 2)');
  expect(detail.updates).toEqual([]);
  await admin.screenshot({ path: `${SHOTS}/c-dashboard-secure.png`, fullPage: true });
});
