import { adminApi } from './support/adminApi';
import { expect, test } from './support/fixtures';

/**
 * Five hospitals, each in its own browser context, run a two-round heart study. One closes mid-round
 * 1: the round closes at its deadline with the other four (the study needs four updates of five), and
 * the admin sees the missing hospital as a straggler, not as a crash. It comes back on the same link,
 * in a fresh context, and trains round 2, which opens only with all five online.
 */

// Round 1 always runs to its deadline: long enough for four tabs training at once on two loaded cores.
const DEADLINE_MS = 45_000;
test.use({ serverOptions: { env: { DEMO_HEART_HOSPITALS: '5', DEMO_ROUNDS: '2', DEMO_DEADLINE_MS: String(DEADLINE_MS) } } });

test('five hospitals run a study; one leaves mid-round, the round closes with four, and it trains the next round', async ({
  browser,
  consilium,
  openHospitals,
  openAdmin,
}) => {
  test.setTimeout(300_000);
  const admin = await adminApi(consilium);
  const console_ = await openAdmin();
  expect(consilium.hospitals.slice(0, 5).map((h) => h.siteId)).toEqual([
    'hospital-a',
    'hospital-b',
    'hospital-c',
    'hospital-westmoor',
    'hospital-harbour',
  ]);

  const hospitals = await openHospitals(5, { join: false });
  const leaving = hospitals[4];
  // The leaving hospital never gets its round-1 update through before it closes.
  await leaving.context.route('**/api/studies/*/rounds/1/updates', (route) => route.abort('connectionrefused'));
  for (const h of hospitals) await h.page.getByTestId('join-button').click();
  await expect(console_.getByTestId('participant-row')).toHaveCount(5);

  // Round 1 opens with all five sampled; the fifth hospital closes while it is open.
  await expect.poll(async () => (await admin.round(1))?.status, { timeout: 120_000 }).toBe('open');
  expect((await admin.round(1))?.sampled).toBe(5);
  await expect(leaving.page.getByTestId('participant-state')).toHaveText(/^(training|uploading)$/, { timeout: 60_000 });
  await leaving.context.close();

  // The other four deliver; the round waits for its deadline, then closes with four updates.
  await expect.poll(async () => (await admin.round(1))?.received, { timeout: DEADLINE_MS }).toBe(4);
  await expect.poll(async () => (await admin.round(1))?.status, { timeout: DEADLINE_MS + 30_000 }).toBe('closed');
  let d = await admin.dashboard();
  expect(d.rounds.map((r) => [r.round, r.status, r.received, r.sampled])).toEqual([[1, 'closed', 4, 5]]);
  const gone = d.participants.find((p) => p.siteId === leaving.siteId)!;
  expect(gone).toMatchObject({ connected: false, state: 'straggler', lastUpdateRound: null });
  expect(d.participants.filter((p) => p.siteId !== leaving.siteId).map((p) => p.lastUpdateRound)).toEqual([1, 1, 1, 1]);
  await expect(console_.locator(`[data-testid="participant-row"][data-site="${leaving.siteId}"]`).getByTestId('participant-state')).toHaveText(
    'straggler',
  );
  // Round 2 needs all five online: it waits for the straggler.
  expect(d.study).toMatchObject({ status: 'running', completedRounds: 1 });

  // The hospital comes back on the same link, in a fresh browser context, and trains round 2.
  const back = await browser.newContext();
  try {
    const page = await back.newPage();
    page.on('pageerror', (err) => console.error(`[${leaving.name}, back] page error:`, err.message));
    await page.goto(`${consilium.hospitals[4].url}?backend=cpu`);
    await expect(page.getByTestId('records-count')).toHaveText(/^[1-9]\d*$/, { timeout: 60_000 });
    await page.getByTestId('join-button').click();
    await expect.poll(async () => (await admin.dashboard()).study.status, { timeout: 120_000 }).toBe('completed');
    await expect(page.getByTestId('rounds-done')).toHaveText('1');
    d = await admin.dashboard();
    expect(d.rounds.map((r) => [r.round, r.status, r.received, r.sampled])).toEqual([
      [1, 'closed', 4, 5],
      [2, 'closed', 5, 5],
    ]);
    expect(d.study).toMatchObject({ completedRounds: 2, currentVersion: 2 });
    expect(d.participants.find((p) => p.siteId === leaving.siteId)).toMatchObject({ connected: true, lastUpdateRound: 2 });
    expect(d.participants.find((p) => p.siteId === leaving.siteId)?.state).not.toBe('straggler');
  } finally {
    await back.close();
  }
  await admin.dispose();
});
