import type { Page } from '@playwright/test';
import { expect, test } from './support/fixtures';

/**
 * Progress reaches the page at least once a second on a GPU backend too. There, reading a batch's
 * loss waits for the backend, so the worker reads one only every 250 ms or so of the backend's work
 * (and the epoch's mean at its end), with the next batches queued first; this checks that those reads
 * still bring the page news at least once a second while a round trains on WebGL (SwiftShader here,
 * software rendering).
 *
 * The round is the page's local one (`session.benchmarkRound`, as `npm run bench:browser` times it):
 * the study's model on the site's own data, its progress shown on the page as a federated round's is,
 * its GPU programs compiled by a warm-up first (a tab's first round compiles them once). A federated
 * round would have two other tabs training on the CPU at the same time, competing with the software
 * renderer for two cores: what that measures is the machine's load, not the page.
 */

const EPOCHS = 8;

declare global {
  interface Window {
    __progress?: { t: number; state: string; epoch: number | null; loss: number | null }[];
  }
}

/** Records every state change of the page's session, on the page's clock. */
async function watch(page: Page): Promise<void> {
  await page.evaluate(() => {
    const log: NonNullable<Window['__progress']> = [];
    window.__progress = log;
    const session = window.__consilium!.session;
    session.subscribe(() => {
      const s = session.getSnapshot();
      log.push({ t: performance.now(), state: s.participantState, epoch: s.epoch, loss: s.loss });
    });
  });
}

test('on WebGL, progress reaches the page at least once a second while a round trains', async ({ openHospitals }) => {
  test.setTimeout(180_000);
  const [h] = await openHospitals(1, { backend: 'webgl', join: false });
  await expect(h.page.getByTestId('backend')).toHaveText('webgl', { timeout: 60_000 });
  await watch(h.page);

  const result = await h.page.evaluate(
    ({ siteId, epochs }) => window.__consilium!.session.benchmarkRound({ siteId, templateId: 'heart-risk', epochs }),
    { siteId: h.siteId, epochs: EPOCHS },
  );
  expect(result).toMatchObject({ backend: 'webgl', epochs: EPOCHS });

  const log = await h.page.evaluate(() => window.__progress!);
  // Progress: the training states the page rendered, each with a new epoch or loss (the first is the start).
  const training = log.filter((s) => s.state === 'training');
  const progress = training.filter((s, i) => i === 0 || s.epoch !== training[i - 1].epoch || s.loss !== training[i - 1].loss);
  const gaps = progress.slice(1).map((p, i) => p.t - progress[i].t);
  const largest = Math.max(0, ...gaps);
  const seconds = (progress[progress.length - 1].t - progress[0].t) / 1000;
  console.log(
    `webgl (${result.adapter ?? 'no adapter string'}): ${result.numSamples} samples × ${EPOCHS} epochs in ${(result.roundMs / 1000).toFixed(1)} s; ` +
      `${progress.length} progress updates over ${seconds.toFixed(1)} s, largest gap ${largest.toFixed(0)} ms; ` +
      `gaps over 500 ms: ${gaps.filter((g) => g > 500).map((g) => g.toFixed(0)).join(', ') || 'none'}`,
  );

  // Every epoch was shown, and at least one progress update per second of training on average, as
  // the CPU's check (responsive.spec.ts) asks. Single gaps are logged, not bounded: one SwiftShader
  // batch alone takes from 30 ms on an idle machine to over a second on a loaded two-core one, and
  // no read schedule can report inside a batch. (Paced by the worker's clock alone, reads let a
  // whole epoch queue up on the GPU: one update or two per epoch, seconds apart, which this fails.)
  expect(new Set(progress.map((p) => p.epoch))).toEqual(new Set(Array.from({ length: EPOCHS }, (_, i) => i + 1)));
  expect(seconds).toBeGreaterThan(1);
  expect(progress.length).toBeGreaterThanOrEqual(Math.floor(seconds) + 1);
});
