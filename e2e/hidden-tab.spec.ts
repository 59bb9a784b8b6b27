import type { Page } from '@playwright/test';
import { adminApi } from './support/adminApi';
import { expect, test } from './support/fixtures';
import { launchTabbedBrowser } from './support/tabbedBrowser';

/**
 * A hospital's training tab in the background. Hidden (another tab in front of it, in the same
 * window, its timers throttled as a background tab's are), it trains its round and the round closes
 * with its update. Frozen by the browser mid-round (Chrome freezes background tabs), it says so
 * before going quiet: the admin sees a straggler, not a crash, the round waits for it, and once the
 * tab resumes it delivers that round and trains the next.
 *
 * Pages Playwright opens itself are never hidden (it emulates focus on each), so the hospital's tab
 * lives in a Chromium of its own, attached without that emulation (support/tabbedBrowser.ts); the
 * page's own `document.visibilityState` and its `freeze`/`resume` events are checked, not assumed.
 * Both steps are placed so that no timing can move them: the tab is hidden after joining and before
 * round 1 opens (it trains all of it hidden), and its round-2 upload is held until it has resumed.
 */

// A round trains for several seconds on the CPU backend: long enough to hide or freeze a tab mid-round.
const EPOCHS = 30;
// Rounds close when all three hospitals delivered (the demo needs three updates of three), never at this deadline.
test.use({ serverOptions: { env: { DEMO_ROUNDS: '3', DEMO_EPOCHS: String(EPOCHS), DEMO_DEADLINE_MS: '600000' } } });

interface LifecycleEvent {
  t: number;
  kind: string;
  visibility: DocumentVisibilityState;
  state: string;
  round: number | null;
  epoch: number | null;
  roundsDone: number;
}

declare global {
  interface Window {
    __lifecycle?: LifecycleEvent[];
  }
}

/** Records, in the page, every state change of its session and every page-lifecycle event, each with the page's visibility then. */
async function record(page: Page): Promise<void> {
  await page.evaluate(() => {
    const log: LifecycleEvent[] = [];
    window.__lifecycle = log;
    const session = window.__consilium!.session;
    const push = (kind: string) => {
      const s = session.getSnapshot();
      log.push({ t: performance.now(), kind, visibility: document.visibilityState, state: s.participantState, round: s.round, epoch: s.epoch, roundsDone: s.roundsDone });
    };
    session.subscribe(() => push('state'));
    for (const type of ['visibilitychange', 'freeze', 'resume']) document.addEventListener(type, () => push(type));
  });
}

// Read through CDP's evaluation, which also answers while the page is frozen (nothing here waits on the page's rendering).
const lifecycle = (page: Page) => page.evaluate(() => window.__lifecycle!);
const snapshot = (page: Page) =>
  page.evaluate(() => {
    const s = window.__consilium!.session.getSnapshot();
    return { state: s.participantState, round: s.round, epoch: s.epoch, roundsDone: s.roundsDone, visibility: document.visibilityState };
  });

test('a hidden training tab trains on; a frozen one is a straggler, not a crash, and delivers once it resumes', async ({
  consilium,
  openHospitals,
  openAdmin,
}) => {
  test.setTimeout(180_000);
  const admin = await adminApi(consilium);
  const console_ = await openAdmin();
  const [a, b] = await openHospitals(2, { join: false });
  const h = consilium.hospitals[2];
  const tabbed = await launchTabbedBrowser();
  try {
    const page = tabbed.context.pages()[0] ?? (await tabbed.context.newPage());
    page.on('pageerror', (err) => console.error(`[${h.name}] page error:`, err.message));
    await page.goto(`${h.url}?backend=cpu`);
    await expect(page.getByTestId('site-name')).toHaveText(h.name);
    await expect(page.getByTestId('records-count')).toHaveText(/^[1-9]\d*$/, { timeout: 60_000 });
    await record(page);
    expect((await snapshot(page)).visibility).toBe('visible');
    const row = console_.locator(`[data-testid="participant-row"][data-site="${h.siteId}"]`);

    // Its round-2 upload is held until the tab has resumed from the freeze below, from the start: round
    // 2 opens as soon as round 1 closes, so however fast it trains, the update cannot slip out before
    // the freeze, which then always lands while the round is owed.
    let releaseUpload!: () => void;
    const uploadHeld = new Promise<void>((r) => (releaseUpload = r));
    await tabbed.context.route('**/api/studies/*/rounds/2/updates', async (route) => {
      await uploadHeld;
      await route.continue();
    });

    // --- Hidden: the hospital joins, then another tab comes to the front of its window. ---
    await page.getByTestId('join-button').click();
    await expect(row.getByTestId('participant-state')).toHaveText('idle', { timeout: 60_000 });
    const cover = await tabbed.context.newPage();
    await cover.bringToFront();
    expect((await snapshot(page)).visibility).toBe('hidden');
    // Round 1 opens once the other two join (all three must be online): the hidden tab trains it.
    for (const p of [a.page, b.page]) await p.getByTestId('join-button').click();

    await expect.poll(async () => (await admin.round(1))?.status, { timeout: 120_000 }).toBe('closed');
    expect(await admin.round(1)).toMatchObject({ received: 3, sampled: 3 });
    let log = await lifecycle(page);
    const hidAt = log.find((e) => e.kind === 'visibilitychange' && e.visibility === 'hidden')!;
    expect(hidAt).toMatchObject({ state: 'idle', roundsDone: 0 });
    const whileHidden = log.filter((e) => e.t > hidAt.t);
    // It stayed hidden, trained round 1 through (epochs went by) and delivered it, all while hidden.
    expect(whileHidden.every((e) => e.visibility === 'hidden')).toBe(true);
    expect(log.filter((e) => e.state === 'training').every((e) => e.t > hidAt.t)).toBe(true);
    const epochsHidden = new Set(whileHidden.filter((e) => e.state === 'training' && e.round === 1).map((e) => e.epoch));
    expect(epochsHidden.size).toBeGreaterThan(1);
    expect(whileHidden.some((e) => e.state === 'done' && e.roundsDone === 1)).toBe(true);
    expect((await admin.dashboard()).participants.find((p) => p.siteId === h.siteId)).toMatchObject({ lastUpdateRound: 1 });

    // --- Frozen: the browser freezes the hidden tab as soon as it starts training round 2. ---
    await page.evaluate(
      () =>
        new Promise<void>((resolve) => {
          const session = window.__consilium!.session;
          const check = () => {
            const s = session.getSnapshot();
            if (s.round === 2 && (s.participantState === 'training' || s.participantState === 'uploading')) resolve();
          };
          session.subscribe(check);
          check();
        }),
    );
    const cdp = await tabbed.context.newCDPSession(page);
    await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
    const frozeAt = (await lifecycle(page)).find((e) => e.kind === 'freeze');
    expect(frozeAt).toMatchObject({ visibility: 'hidden', round: 2, roundsDone: 1 });
    expect(['training', 'uploading']).toContain(frozeAt!.state);

    // The tab said it is suspended before going quiet: it owes round 2, so the admin sees a straggler.
    await expect.poll(async () => (await admin.dashboard()).participants.find((p) => p.siteId === h.siteId)?.state, { timeout: 30_000 }).toBe('straggler');
    await expect(row.getByTestId('participant-state')).toHaveText('straggler');
    // Frozen, it stays quiet and the round waits for it; the other two delivered theirs.
    await expect.poll(async () => (await admin.round(2))?.received, { timeout: 120_000 }).toBe(2);
    const quiet = (await lifecycle(page)).length;
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await lifecycle(page)).length).toBe(quiet);
    expect(await admin.round(2)).toMatchObject({ status: 'open', received: 2, sampled: 3 });
    let d = await admin.dashboard();
    expect(d.participants.find((p) => p.siteId === h.siteId)).toMatchObject({ state: 'straggler', lastUpdateRound: 1 });

    // --- Resumed (still hidden): it finishes round 2, whose update arrives, and trains round 3. ---
    await cdp.send('Page.setWebLifecycleState', { state: 'active' });
    releaseUpload();
    await expect.poll(async () => (await admin.round(2))?.status, { timeout: 120_000 }).toBe('closed');
    expect(await admin.round(2)).toMatchObject({ received: 3, sampled: 3 });
    await expect.poll(async () => (await admin.dashboard()).study.status, { timeout: 120_000 }).toBe('completed');
    d = await admin.dashboard();
    expect(d.rounds.map((r) => [r.round, r.status, r.received, r.sampled])).toEqual([
      [1, 'closed', 3, 3],
      [2, 'closed', 3, 3],
      [3, 'closed', 3, 3],
    ]);
    const back = d.participants.find((p) => p.siteId === h.siteId)!;
    expect(back).toMatchObject({ connected: true, lastUpdateRound: 3 });
    expect(back.state).not.toBe('straggler');
    await expect(row.getByTestId('participant-state')).not.toHaveText('straggler');

    log = await lifecycle(page);
    const resumedAt = log.find((e) => e.kind === 'resume')!;
    expect(resumedAt).toMatchObject({ visibility: 'hidden', round: 2 });
    expect(log.filter((e) => e.t > hidAt.t).every((e) => e.visibility === 'hidden')).toBe(true);
    expect(log.some((e) => e.t > resumedAt.t && e.round === 3 && e.state === 'training')).toBe(true);
    expect((await snapshot(page)).roundsDone).toBe(3);
    console.log(
      `${h.name}: hidden before round 1 (visibilityState '${hidAt.visibility}'), ${epochsHidden.size} epochs of it shown while hidden; ` +
        `frozen at epoch ${frozeAt!.epoch}/${EPOCHS} of round 2 for ${((resumedAt.t - frozeAt!.t) / 1000).toFixed(1)} s; rounds done ${(await snapshot(page)).roundsDone}`,
    );
  } catch (e) {
    for (const p of tabbed.context.pages()) {
      const log = await p.evaluate(() => window.__lifecycle ?? null).catch(() => null);
      if (log) console.log(`${h.name} lifecycle log:\n${log.map((x) => JSON.stringify(x)).join('\n')}`);
    }
    throw e;
  } finally {
    await tabbed.close();
    await admin.dispose();
  }
});
