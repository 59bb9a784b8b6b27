import type { Page } from '@playwright/test';
import { expect, test } from './support/fixtures';

/**
 * Training runs in the worker, so the hospital page's main thread stays free: no task of the page
 * takes over 500 ms while its worker trains a round (a bound that catches training on the main thread
 * without failing on a loaded two-core machine), and progress reaches the page at least once a second.
 */

// Enough local epochs that the round trains for several seconds.
test.use({ serverOptions: { env: { DEMO_ROUNDS: '1', DEMO_EPOCHS: '60' } } });

const LONG_TASK_LIMIT_MS = 500;

declare global {
  interface Window {
    __responsiveness?: {
      longTasks: { start: number; duration: number }[];
      /** Page-clock time and state of every state change the page rendered. */
      states: { t: number; state: string; epoch: number | null; loss: number | null }[];
    };
  }
}

/** Starts watching the page's long tasks and its session's state changes. */
async function watch(page: Page): Promise<void> {
  await page.evaluate(() => {
    const log: NonNullable<Window['__responsiveness']> = { longTasks: [], states: [] };
    window.__responsiveness = log;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) log.longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
    const session = window.__consilium!.session;
    session.subscribe(() => {
      const s = session.getSnapshot();
      log.states.push({ t: performance.now(), state: s.participantState, epoch: s.epoch, loss: s.loss });
    });
  });
}

test('the page stays responsive while its worker trains a round, and shows progress every second', async ({ openHospitals }) => {
  const hospitals = await openHospitals(3, { join: false });
  const page = hospitals[0].page;
  expect(await page.evaluate(() => PerformanceObserver.supportedEntryTypes.includes('longtask'))).toBe(true);
  await watch(page);

  // The watch sees a long task when there is one: the main thread busy for 600 ms, before training.
  await page.evaluate(
    () =>
      new Promise<void>((resolve) =>
        setTimeout(() => {
          const until = performance.now() + 600;
          while (performance.now() < until) {
            // busy, as training on the main thread would be
          }
          resolve();
        }),
      ),
  );
  await expect.poll(() => page.evaluate(() => Math.max(0, ...window.__responsiveness!.longTasks.map((t) => t.duration)))).toBeGreaterThanOrEqual(600);

  for (const h of hospitals) await h.page.getByTestId('join-button').click();
  await expect(page.getByTestId('participant-state')).toHaveText('training', { timeout: 120_000 });
  await expect(page.getByTestId('rounds-done')).toHaveText('1', { timeout: 200_000 });

  const log = await page.evaluate(() => window.__responsiveness!);
  const start = log.states.find((s) => s.state === 'training')!.t;
  const end = log.states.find((s) => s.t > start && (s.state === 'uploading' || s.state === 'done'))!.t;
  const during = log.longTasks.filter((t) => t.start + t.duration > start && t.start < end);
  // Progress: the training states the page rendered, each with a new epoch or loss.
  const progress = log.states.filter((s, i) => s.t >= start && s.t <= end && s.state === 'training' && (i === 0 || s.epoch !== log.states[i - 1].epoch || s.loss !== log.states[i - 1].loss));
  const gaps = progress.slice(1).map((p, i) => p.t - progress[i].t);
  const seconds = (end - start) / 1000;
  const longest = Math.max(0, ...during.map((t) => t.duration));
  console.log(
    `training took ${seconds.toFixed(1)} s on the page's clock; ${during.length} long task(s) during it, longest ${longest.toFixed(0)} ms; ` +
      `${progress.length} progress updates, largest gap ${Math.max(0, ...gaps).toFixed(0)} ms`,
  );

  expect(seconds).toBeGreaterThan(1);
  expect(during.filter((t) => t.duration > LONG_TASK_LIMIT_MS)).toEqual([]);
  // At least one progress update per second of training, on average (the worker sends one every 250 ms).
  expect(progress.length).toBeGreaterThanOrEqual(Math.floor(seconds) + 1);
  expect(new Set(progress.map((p) => p.epoch)).size).toBeGreaterThan(1);
});
