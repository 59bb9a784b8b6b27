import type { Page } from '@playwright/test';
import { adminApi } from './support/adminApi';
import { expect, test } from './support/fixtures';

/**
 * Three tabs of one hospital in one browser profile (one context: one IndexedDB). Exactly one of
 * them trains, the holder of the site's Web Lock; the others mirror its progress. The training tab
 * is closed mid-round; another tab takes the lock, trains, and the hospital's update for that round
 * still arrives. The admin sees the hospital once.
 */

// Enough local epochs that a round's training lasts several seconds even on an idle machine (12 epochs
// took about a second there: round 1 could close before the test looked at it), so the tab is closed mid-training.
const EPOCHS = 60;
test.use({ serverOptions: { env: { DEMO_ROUNDS: '2', DEMO_DEADLINE_MS: '180000', DEMO_EPOCHS: String(EPOCHS) } } });

interface TabSample {
  role: string;
  trains: boolean;
}

async function sample(page: Page): Promise<TabSample | null> {
  if (page.isClosed()) return null;
  try {
    return await page.evaluate(() => {
      const el = document.querySelector<HTMLElement>('[data-testid="tab-role"]');
      return { role: el?.dataset.role ?? 'none', trains: el?.dataset.trains === 'true' };
    });
  } catch {
    return null; // closed while asked
  }
}

test('one of three tabs of a hospital trains; when it closes mid-round another takes over and the update arrives', async ({
  consilium,
  openHospitals,
}) => {
  const admin = await adminApi(consilium);
  const [a, b, c] = await openHospitals(3, { join: false });

  // Two more tabs of hospital A, in A's browser profile.
  const tabs = [a.page];
  for (let i = 0; i < 2; i++) {
    const page = await a.context.newPage();
    page.on('pageerror', (err) => console.error(`[${a.name} tab ${i + 2}] page error:`, err.message));
    await page.goto(`${consilium.hospitals[0].url}?backend=cpu`);
    await expect(page.getByTestId('records-count')).toHaveText(/^[1-9]\d*$/, { timeout: 60_000 });
    tabs.push(page);
  }
  // Which of A's tabs open a Socket.IO connection: only the training tab should.
  const sockets = new Map<Page, number>(tabs.map((p) => [p, 0]));
  for (const p of tabs) p.on('websocket', (ws) => ws.url().includes('/socket.io/') && sockets.set(p, sockets.get(p)! + 1));

  for (const t of tabs) await t.getByTestId('join-button').click();
  await expect.poll(async () => (await Promise.all(tabs.map(sample))).filter((s) => s?.role === 'leader').length).toBe(1);
  const roles = await Promise.all(tabs.map(sample));
  const leader = tabs[roles.findIndex((s) => s?.role === 'leader')];
  const others = tabs.filter((t) => t !== leader);
  for (const o of others) await expect(o.getByTestId('tab-role')).toHaveAttribute('data-role', /^(follower|standby)$/);
  await b.page.getByTestId('join-button').click();
  await c.page.getByTestId('join-button').click();

  // Sample every tab of A while the study runs: never two training tabs, never two lock holders.
  const samples: (TabSample | null)[][] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push(await Promise.all(tabs.map(sample)));
      await new Promise((r) => setTimeout(r, 150));
    }
  })();

  // The training tab trains round 1; the others show its progress, mirrored, and say so.
  await expect(leader.getByTestId('tab-role')).toHaveAttribute('data-trains', 'true', { timeout: 120_000 });
  await expect(leader.getByTestId('epoch')).toHaveText(new RegExp(`^[1-9]\\d*/${EPOCHS}$`), { timeout: 60_000 });
  for (const o of others) {
    await expect(o.getByTestId('tab-role')).toContainText('Another tab of this hospital is training');
    await expect(o.getByTestId('participant-state')).toHaveText('training');
    await expect(o.getByTestId('current-round')).toHaveText('1');
    await expect(o.getByTestId('tab-role')).toHaveAttribute('data-trains', 'false');
  }
  expect((await admin.round(1))?.status).toBe('open');

  // Close the training tab mid-round.
  await leader.close();
  expect((await admin.round(1))?.status).toBe('open');
  await expect.poll(async () => (await Promise.all(others.map(sample))).filter((s) => s?.role === 'leader').length, { timeout: 30_000 }).toBe(1);
  const next = others[(await Promise.all(others.map(sample))).findIndex((s) => s?.role === 'leader')];
  const last = others.find((o) => o !== next)!;
  await expect(next.getByText('The training tab of this hospital closed: this tab takes over.')).toBeVisible();

  // The new training tab trains round 1 and delivers A's update: the round closes with all three hospitals.
  await expect.poll(async () => (await admin.round(1))?.status, { timeout: 120_000 }).toBe('closed');
  expect(await admin.round(1)).toMatchObject({ received: 3, sampled: 3 });
  // Round 2 runs on the new training tab too; the third tab mirrors it to the end.
  await expect.poll(async () => (await admin.dashboard()).study.status, { timeout: 150_000 }).toBe('completed');
  await expect(last.getByTestId('rounds-done')).toHaveText('2', { timeout: 30_000 });

  sampling = false;
  await sampler;
  const leaders = samples.map((s) => s.filter((x) => x?.role === 'leader').length);
  const training = samples.map((s) => s.filter((x) => x?.trains).length);
  expect(Math.max(...leaders)).toBe(1);
  expect(Math.max(...training)).toBe(1);
  // Both the first and the second training tab were seen training, each while the only one.
  expect(samples.some((s) => s[tabs.indexOf(leader)]?.trains)).toBe(true);
  expect(samples.some((s) => s[tabs.indexOf(next)]?.trains)).toBe(true);
  expect(samples.every((s) => !s[tabs.indexOf(last)]?.trains)).toBe(true);

  // The admin sees hospital A once; it contributed to both rounds. Only the training tabs connected.
  const d = await admin.dashboard();
  expect(d.participants.map((p) => p.siteId).sort()).toEqual([a.siteId, b.siteId, c.siteId].sort());
  expect(d.participants.find((p) => p.siteId === a.siteId)).toMatchObject({ connected: true, lastUpdateRound: 2 });
  expect(d.rounds.map((r) => [r.round, r.status, r.received])).toEqual([
    [1, 'closed', 3],
    [2, 'closed', 3],
  ]);
  expect(sockets.get(last)).toBe(0);
  expect(sockets.get(leader)! + sockets.get(next)!).toBeGreaterThanOrEqual(2);
  await admin.dispose();
});
