import { adminApi } from './support/adminApi';
import { expect, test } from './support/fixtures';

/**
 * The outbox when the round moves on without the update: hospital C cannot reach the server while
 * round 1 is open, the deadline passes with only two of the three updates the demo study needs, and
 * the round is abandoned. C's queued update is then refused (`round_not_open`), discarded with a
 * message on the page, and never sent to round 2, which C trains afresh.
 *
 * A file of its own: the deadline must be short for the round to close while the update waits, and a
 * spec file's server options apply to the whole file.
 */

// Training and uploading a round takes about 3 s here: 30 s leaves a wide margin for A and B, and for round 2.
const DEADLINE_MS = 30_000;
test.use({ serverOptions: { env: { DEMO_ROUNDS: '1', DEMO_DEADLINE_MS: String(DEADLINE_MS) } } });

test("an update whose round closed while it waited is discarded with a message, and never sent to another round", async ({
  consilium,
  openHospitals,
}) => {
  const admin = await adminApi(consilium);
  const hospitals = await openHospitals(3, { join: false });
  const [, , c] = hospitals;

  // Every update C's tab and worker send, by round, with its Idempotency-Key.
  const keysByRound = new Map<number, Set<string>>();
  c.context.on('request', (r) => {
    const m = /\/rounds\/(\d+)\/updates$/.exec(new URL(r.url()).pathname);
    if (!m || r.method() !== 'POST') return;
    const round = Number(m[1]);
    if (!keysByRound.has(round)) keysByRound.set(round, new Set());
    keysByRound.get(round)!.add(r.headers()['idempotency-key']);
  });
  // C cannot reach the server with its round-1 update while that round is open; once the server has
  // given up on the round, C's next attempt gets through and hears the verdict.
  let refused = 0;
  await c.context.route('**/api/studies/*/rounds/1/updates', async (route) => {
    if ((await admin.round(1))?.status === 'open') {
      refused++;
      return route.abort('connectionrefused');
    }
    return route.continue();
  });

  for (const h of hospitals) await h.page.getByTestId('join-button').click();

  // C's update waits in the outbox while A and B deliver theirs.
  await expect(c.page.getByTestId('outbox-count')).toHaveText('1', { timeout: 120_000 });
  await expect(c.page.getByTestId('outbox-status')).toContainText(/^1 update waiting to be delivered — retrying in \d+ s/);
  await expect.poll(async () => (await admin.round(1))?.received, { timeout: DEADLINE_MS }).toBe(2);

  // The deadline passes below the study's minimum of three: round 1 is abandoned.
  await expect.poll(async () => (await admin.round(1))?.status, { timeout: DEADLINE_MS + 30_000 }).toBe('abandoned');
  await expect(c.page.getByTestId('outbox-discarded')).toHaveText(
    "Round 1 closed before this hospital's update could be delivered; it was discarded.",
    { timeout: 30_000 },
  );
  expect(refused).toBeGreaterThanOrEqual(1);

  // Round 2 opens from the same version; all three train it, C afresh, and it closes with three updates.
  await expect.poll(async () => (await admin.round(2))?.status, { timeout: DEADLINE_MS + 30_000 }).toBe('closed');
  await expect(c.page.getByTestId('outbox-count')).toHaveText('0');
  const d = await admin.dashboard();
  expect(d.rounds.map((r) => [r.round, r.status, r.received, r.sampled])).toEqual([
    [1, 'abandoned', 2, 3],
    [2, 'closed', 3, 3],
  ]);
  expect(d.study).toMatchObject({ status: 'completed', completedRounds: 1, currentVersion: 1 });

  // The discarded update only ever went to round 1; round 2 got a new update with a key of its own.
  const [k1, k2] = [keysByRound.get(1), keysByRound.get(2)];
  expect(k1?.size).toBe(1);
  expect(k2?.size).toBe(1);
  expect([...k1!][0]).not.toBe([...k2!][0]);
  await admin.dispose();
});
