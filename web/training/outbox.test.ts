import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { UploadReceipt } from '../../shared/protocol';
import { ApiRequestError } from '../api/http';
import { memoryOutboxStore, Outbox, type OutboxDeps } from './outbox';
import { FIRST_ATTEMPT_GRACE_MS, type OutboxEntry, type OutboxEvent, type OutboxNotice } from './outboxPolicy';

const receipt = (over: Partial<UploadReceipt> = {}): UploadReceipt => ({ accepted: true, duplicate: false, round: 3, received: 3, expected: 3, ...over });
const down = () => new ApiRequestError('network', 'Cannot reach the server (Failed to fetch)');
const closed = () => new ApiRequestError('round_not_open', 'round 3 is abandoned; updates are no longer accepted', 409);
const update = (id = 'key-0001') => ({ id, studyId: 'heart-demo', round: 3, baseVersion: 2, body: new Uint8Array([7, 7, 7]) });

type Answer = UploadReceipt | Error;

/** An outbox on an in-memory store whose uploads answer from a script, recording every attempt. */
function harness(answers: Answer[], over: Partial<OutboxDeps> = {}) {
  const store = memoryOutboxStore();
  const sent: { id: string; round: number; body: number[]; storedBeforeSend: boolean; at: number }[] = [];
  const events: OutboxEvent[] = [];
  const notices: OutboxNotice[] = [];
  const outbox = new Outbox({
    store,
    random: () => 1,
    send: async (entry: OutboxEntry, token: string) => {
      expect(token).toBe('tok');
      sent.push({ id: entry.id, round: entry.round, body: [...entry.body], storedBeforeSend: store.entries.has(entry.id), at: Date.now() });
      const a = answers.shift();
      if (!a) throw new Error('no scripted answer left');
      if (a instanceof Error) throw a;
      return a;
    },
    ...over,
  });
  outbox.setToken('tok');
  outbox.subscribe((e) => {
    events.push(e);
    if (e.notice) notices.push(e.notice);
  });
  const count = () => events.at(-1)?.view.entries.length;
  return { store, sent, events, notices, outbox, count };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_000_000);
});
afterEach(() => vi.useRealTimers());

describe('Outbox', () => {
  it('stores the update before the first attempt and drops it once acknowledged', async () => {
    const h = harness([receipt()]);
    await expect(h.outbox.submit(update())).resolves.toEqual({ status: 'delivered', receipt: receipt() });
    expect(h.sent).toEqual([{ id: 'key-0001', round: 3, body: [7, 7, 7], storedBeforeSend: true, at: 1_000_000 }]);
    expect(h.store.entries.size).toBe(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.count()).toBe(0);
    // Whoever started the attempt is told; subscribers get no second notice of it.
    expect(h.notices).toEqual([]);
  });

  it('keeps a failed update and retries it with the same key and bytes, backing off, until delivered', async () => {
    const h = harness([down(), down(), new ApiRequestError('internal', 'unavailable', 503), receipt({ received: 3 })]);
    const outcome = await h.outbox.submit(update());
    expect(outcome).toEqual({ status: 'queued', reason: 'Cannot reach the server (Failed to fetch)' });
    expect(h.store.entries.get('key-0001')).toMatchObject({ attempts: 1, nextAttemptAt: 1_001_000, lastError: 'Cannot reach the server (Failed to fetch)' });
    await vi.advanceTimersByTimeAsync(0);
    expect(h.count()).toBe(1);

    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.sent.map((s) => s.at - 1_000_000)).toEqual([0, 1_000, 3_000, 7_000]);
    expect(new Set(h.sent.map((s) => s.id))).toEqual(new Set(['key-0001']));
    expect(h.sent.every((s) => s.round === 3 && s.body.join() === '7,7,7')).toBe(true);
    expect(h.notices).toEqual([{ type: 'delivered', id: 'key-0001', studyId: 'heart-demo', round: 3, receipt: receipt(), attempts: 4 }]);
    expect(h.store.entries.size).toBe(0);
    expect(h.count()).toBe(0);
  });

  it('discards an update whose round closed meanwhile, with the message, and never sends it elsewhere', async () => {
    const h = harness([down(), closed()]);
    await h.outbox.submit(update());
    await vi.advanceTimersByTimeAsync(5_000);
    expect(h.sent.map((s) => s.round)).toEqual([3, 3]);
    expect(h.notices).toEqual([
      expect.objectContaining({
        type: 'discarded',
        round: 3,
        code: 'round_not_open',
        message: "Round 3 closed before this hospital's update could be delivered; it was discarded.",
      }),
    ]);
    expect(h.store.entries.size).toBe(0);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(h.sent).toHaveLength(2);
  });

  it('returns a first-attempt refusal to the caller and drops the update', async () => {
    const h = harness([closed()]);
    await expect(h.outbox.submit(update())).resolves.toEqual({
      status: 'discarded',
      code: 'round_not_open',
      message: "Round 3 closed before this hospital's update could be delivered; it was discarded.",
    });
    expect(h.store.entries.size).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.sent).toHaveLength(1);
  });

  it('retries at once when nudged (reconnected, online) instead of waiting out the backoff', async () => {
    const h = harness([down(), down(), down(), down(), down(), receipt()]);
    await h.outbox.submit(update());
    await vi.advanceTimersByTimeAsync(15_500);
    expect(h.sent).toHaveLength(5); // t = 0, 1, 3, 7, 15 s; the next one is due at 31 s
    h.outbox.nudge();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.sent).toHaveLength(6);
    expect(h.sent[5].at - 1_000_000).toBe(15_500);
    expect(h.notices.map((n) => n.type)).toEqual(['delivered']);
  });

  it('resumes what an earlier tab left in the outbox as soon as the page subscribes', async () => {
    const store = memoryOutboxStore();
    await store.add({ ...update('left-behind'), createdAt: 900_000, attempts: 2, nextAttemptAt: 1_020_000, lastError: 'down' });
    const h = harness([receipt({ duplicate: true })], { store });
    await vi.advanceTimersByTimeAsync(0);
    expect(h.sent.map((s) => [s.id, s.at])).toEqual([['left-behind', 1_000_000]]);
    expect(h.notices).toEqual([expect.objectContaining({ type: 'delivered', id: 'left-behind', receipt: receipt({ duplicate: true }), attempts: 3 })]);
    expect(store.entries.size).toBe(0);
  });

  it('leaves another tab its grace period for a fresh entry, then takes it over', async () => {
    const store = memoryOutboxStore();
    await store.add({ ...update('other-tab'), createdAt: 1_000_000, attempts: 0, nextAttemptAt: 1_000_000 + FIRST_ATTEMPT_GRACE_MS, lastError: null });
    const h = harness([receipt()], { store });
    await vi.advanceTimersByTimeAsync(FIRST_ATTEMPT_GRACE_MS - 1);
    expect(h.sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.sent).toHaveLength(1);
  });

  it('retries only inside the site lock, and lets go of it once the outbox is empty', async () => {
    // Another tab of the site holds the lock until `grant`.
    let grant!: () => void;
    const granted = new Promise<void>((r) => (grant = r));
    let held = 0;
    const exclusive = async <T>(fn: () => Promise<T>) => {
      await granted;
      held++;
      try {
        return await fn();
      } finally {
        held--;
      }
    };
    const h = harness([down(), receipt()], { exclusive });
    // The first attempt does not wait for the lock: a fresh update goes out at once.
    expect(await h.outbox.submit(update())).toMatchObject({ status: 'queued' });
    await vi.advanceTimersByTimeAsync(20_000);
    h.outbox.nudge();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.sent).toHaveLength(1);
    grant();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.sent).toHaveLength(2);
    expect(h.notices.map((n) => n.type)).toEqual(['delivered']);
    await vi.advanceTimersByTimeAsync(0);
    expect(held).toBe(0);
  });

  it('knows which rounds it holds an update for', async () => {
    const h = harness([down()]);
    await h.outbox.submit(update());
    expect(await h.outbox.holds('heart-demo', 3)).toBe(true);
    expect(await h.outbox.holds('heart-demo', 4)).toBe(false);
    expect(await h.outbox.holds('other-study', 3)).toBe(false);
  });

  it('shows an update as sending while its attempt is on the wire', async () => {
    let release!: (r: UploadReceipt) => void;
    const store = memoryOutboxStore();
    const views: boolean[][] = [];
    const outbox = new Outbox({ store, send: () => new Promise<UploadReceipt>((r) => (release = r)) });
    outbox.setToken('tok');
    outbox.subscribe((e) => views.push(e.view.entries.map((x) => x.sending)));
    const done = outbox.submit(update());
    await vi.advanceTimersByTimeAsync(0);
    expect(views.at(-1)).toEqual([true]);
    release(receipt());
    await done;
    await vi.advanceTimersByTimeAsync(0);
    expect(views.at(-1)).toEqual([]);
  });

  it('keeps the update when there is no token yet, and sends it once there is', async () => {
    const store = memoryOutboxStore();
    const tokens: string[] = [];
    const outbox = new Outbox({ store, random: () => 1, send: async (_e, t) => (tokens.push(t), receipt()) });
    outbox.subscribe(() => undefined);
    expect(await outbox.submit(update())).toMatchObject({ status: 'queued' });
    outbox.setToken('late');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(tokens).toEqual(['late']);
    expect(store.entries.size).toBe(0);
  });
});
