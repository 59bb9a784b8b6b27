import type { Request, Route } from '@playwright/test';
import { adminApi } from './support/adminApi';
import { expect, test } from './support/fixtures';

/**
 * The outbox, end to end: the server crashes while a hospital uploads its update. The update waits in
 * the tab's IndexedDB outbox (visibly), survives the tab being closed, and after the restart reaches
 * the server exactly once, even when a retry's answer is lost on the way back.
 */

test.use({ serverOptions: { env: { DEMO_ROUNDS: '1', DEMO_DEADLINE_MS: '120000' } } });

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const UPDATES = '**/api/studies/*/rounds/*/updates';

test('an update caught by a server crash waits in the outbox, survives a closed tab and arrives once after the restart', async ({
  consilium,
  openHospitals,
}) => {
  const hospitals = await openHospitals(3, { join: false });
  const [a, b, c] = hospitals;

  // Every upload attempt of hospital C, as the network saw it. The route sees the training worker's
  // fetches too (dedicated workers belong to the context).
  const attempts: { key: string; url: string }[] = [];
  const uploadHeld = deferred();
  const crashed = deferred();
  const replyLost = deferred<number>();
  let phase: 'hold-first' | 'server-down' | 'lose-reply' | 'pass' = 'hold-first';
  await c.context.route(UPDATES, async (route: Route, request: Request) => {
    attempts.push({ key: request.headers()['idempotency-key'], url: request.url() });
    if (phase === 'hold-first') {
      // C's first upload is on its way when the server dies; it then meets a closed port.
      phase = 'server-down';
      uploadHeld.resolve();
      await crashed.promise;
      return route.continue();
    }
    if (phase === 'lose-reply') {
      // The server is back: this attempt reaches it and is stored, but its receipt never comes back.
      try {
        const response = await route.fetch();
        phase = 'pass';
        replyLost.resolve(response.status());
        return route.abort('connectionreset');
      } catch {
        return route.abort('connectionrefused');
      }
    }
    return route.continue();
  });

  for (const h of hospitals) await h.page.getByTestId('join-button').click();

  // C has trained and its upload is in flight; A and B deliver theirs while the server is up.
  await uploadHeld.promise;
  await expect(a.page.getByTestId('participant-state')).toHaveText('done', { timeout: 120_000 });
  await expect(b.page.getByTestId('participant-state')).toHaveText('done', { timeout: 120_000 });
  const admin = await adminApi(consilium);
  expect(await admin.round(1)).toMatchObject({ status: 'open', received: 2, sampled: 3 });

  // Crash: no shutdown code runs.
  await consilium.kill('SIGKILL');
  crashed.resolve();

  // C keeps the update and says so, with the next retry's time.
  await expect(c.page.getByTestId('outbox-count')).toHaveText('1');
  await expect(c.page.getByTestId('outbox-status')).toContainText(/^1 update waiting to be delivered — retrying in \d+ s/);
  await expect(c.page.getByTestId('participant-state')).toHaveText('uploading');
  await expect(c.page.getByText(/the update is kept in the outbox and will be retried/)).toBeVisible();
  // A few attempts meet the closed port, all with the one key.
  await expect.poll(() => attempts.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);

  // The tab is closed while the server is down: the update is in IndexedDB, not in the tab.
  await c.page.close();

  await consilium.start();
  phase = 'lose-reply';

  // The hospital opens its link again: the new tab resumes the outbox before anyone presses Join.
  const page = await c.context.newPage();
  await page.goto(`${consilium.hospitals[2].url}?backend=cpu`);
  await expect(page.getByTestId('site-name')).toHaveText(c.name);
  expect(await replyLost.promise).toBe(200);
  // The upload is acknowledged once it is durable; the round closes just after, on its own.
  await expect.poll(async () => admin.round(1), { timeout: 15_000 }).toMatchObject({ status: 'closed', received: 3, sampled: 3 });

  // The receipt was lost, so the update still waits; joining reconnects and retries it at once, and
  // the server acknowledges the same key as a duplicate instead of counting it again.
  await expect(page.getByTestId('outbox-count')).toHaveText('1');
  await expect(page.getByTestId('records-count')).toHaveText(/^[1-9]\d*$/, { timeout: 60_000 });
  await page.getByTestId('join-button').click();
  await expect(page.getByTestId('outbox-count')).toHaveText('0', { timeout: 30_000 });
  await expect(page.getByText(/Round 1: the update waiting in the outbox was delivered \(attempt \d+, already received\); 3\/3 received\./)).toBeVisible();
  await expect(page.getByTestId('outbox-status')).toHaveCount(0);
  await expect(page.getByTestId('outbox-discarded')).toHaveCount(0);

  const d = await admin.dashboard();
  expect(d.rounds).toEqual([expect.objectContaining({ round: 1, status: 'closed', received: 3, sampled: 3, version: 1 })]);
  expect(d.study).toMatchObject({ status: 'completed', completedRounds: 1, currentVersion: 1 });

  // One update, one key, one round: every attempt carried the same Idempotency-Key to round 1.
  expect(attempts.length).toBeGreaterThanOrEqual(5);
  expect(new Set(attempts.map((x) => x.key)).size).toBe(1);
  expect(attempts[0].key).toMatch(/^[0-9a-f-]{36}$/);
  expect(new Set(attempts.map((x) => new URL(x.url).pathname))).toEqual(new Set(['/api/studies/heart-demo/rounds/1/updates']));
  await admin.dispose();
});
