import { describe, expect, it } from 'vitest';
import type { UploadReceipt } from '../../shared/protocol';
import { ApiRequestError } from '../api/http';
import {
  afterAttempt,
  backoffDelay,
  DEFAULT_BACKOFF,
  discardMessage,
  judgeAttempt,
  outboxStatusLine,
  planDrain,
  viewOf,
  type OutboxEntry,
} from './outboxPolicy';

const receipt: UploadReceipt = { accepted: true, duplicate: false, round: 3, received: 2, expected: 3 };

function entry(over: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    id: 'key-a',
    studyId: 'heart-demo',
    round: 3,
    baseVersion: 2,
    body: new Uint8Array([1, 2, 3]),
    createdAt: 1_000,
    attempts: 0,
    nextAttemptAt: 16_000,
    lastError: null,
    ...over,
  };
}

describe('backoffDelay', () => {
  it('doubles from 1 s and never passes the 30 s cap', () => {
    const top = (n: number) => backoffDelay(n, () => 1);
    expect([1, 2, 3, 4, 5, 6, 7, 20, 1_000].map(top)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it('jitters within the upper half of the current step, so delays never collapse to zero', () => {
    expect(backoffDelay(1, () => 0)).toBe(500);
    expect(backoffDelay(4, () => 0)).toBe(4_000);
    expect(backoffDelay(9, () => 0)).toBe(15_000);
    for (let n = 1; n <= 12; n++) {
      const ceiling = Math.min(DEFAULT_BACKOFF.maxMs, DEFAULT_BACKOFF.baseMs * 2 ** (n - 1));
      for (const r of [0, 0.1, 0.5, 0.9, 0.999999]) {
        const d = backoffDelay(n, () => r);
        expect(d).toBeGreaterThanOrEqual(ceiling / 2);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('tolerates odd inputs: zero failures, random outside [0, 1], custom bounds', () => {
    expect(backoffDelay(0, () => 1)).toBe(1_000);
    expect(backoffDelay(2, () => 7)).toBe(2_000);
    expect(backoffDelay(2, () => -3)).toBe(1_000);
    expect(backoffDelay(3, () => 1, { baseMs: 100, maxMs: 250 })).toBe(250);
  });
});

describe('judgeAttempt', () => {
  const fail = (error: unknown) => judgeAttempt({ ok: false, error });

  it('delivers on a receipt, duplicates included', () => {
    expect(judgeAttempt({ ok: true, receipt })).toEqual({ kind: 'delivered', receipt });
    const dup = { ...receipt, duplicate: true };
    expect(judgeAttempt({ ok: true, receipt: dup })).toEqual({ kind: 'delivered', receipt: dup });
  });

  it('retries what an outage looks like: no connection, 5xx, 408, 429, a cut body', () => {
    expect(fail(new ApiRequestError('network', 'Cannot reach the server')).kind).toBe('retry');
    expect(fail(new ApiRequestError('internal', 'boom', 500)).kind).toBe('retry');
    expect(fail(new ApiRequestError('internal', 'bad gateway', 502)).kind).toBe('retry');
    expect(fail(new ApiRequestError('internal', 'unavailable', 503)).kind).toBe('retry');
    expect(fail(new ApiRequestError('bad_request', 'timeout', 408)).kind).toBe('retry');
    expect(fail(new ApiRequestError('bad_request', 'slow down', 429)).kind).toBe('retry');
    expect(fail(new TypeError('Failed to fetch')).kind).toBe('retry');
  });

  it('discards on the server final word, keeping its code', () => {
    expect(fail(new ApiRequestError('round_not_open', 'round 3 is closed', 409))).toEqual({ kind: 'discard', code: 'round_not_open', reason: 'round 3 is closed' });
    expect(fail(new ApiRequestError('duplicate_update', 'already', 409))).toMatchObject({ kind: 'discard', code: 'duplicate_update' });
    expect(fail(new ApiRequestError('wrong_base_version', 'v1 vs v2', 409))).toMatchObject({ kind: 'discard', code: 'wrong_base_version' });
    expect(fail(new ApiRequestError('update_not_finite', 'NaN', 400))).toMatchObject({ kind: 'discard', code: 'update_not_finite' });
    expect(fail(new ApiRequestError('not_sampled', 'no', 403))).toMatchObject({ kind: 'discard', code: 'not_sampled' });
    expect(fail(new ApiRequestError('payload_too_large', 'big', 413))).toMatchObject({ kind: 'discard', code: 'payload_too_large' });
    expect(fail(new ApiRequestError('unauthenticated', 'expired', 401))).toMatchObject({ kind: 'discard', code: 'unauthenticated' });
  });
});

describe('afterAttempt: the entry state machine', () => {
  const half = () => 0.5;

  it('removes a delivered entry and says so, counting this attempt', () => {
    const t = afterAttempt(entry({ attempts: 2 }), { kind: 'delivered', receipt }, 50_000, half);
    expect(t).toEqual({ action: 'remove', notice: { type: 'delivered', id: 'key-a', studyId: 'heart-demo', round: 3, receipt, attempts: 3 } });
  });

  it('removes a refused entry with a message a person understands', () => {
    const t = afterAttempt(entry(), { kind: 'discard', code: 'round_not_open', reason: 'round 3 is closed' }, 50_000, half);
    expect(t).toEqual({
      action: 'remove',
      notice: {
        type: 'discarded',
        id: 'key-a',
        studyId: 'heart-demo',
        round: 3,
        code: 'round_not_open',
        reason: 'round 3 is closed',
        message: "Round 3 closed before this hospital's update could be delivered; it was discarded.",
      },
    });
  });

  it('reschedules a transient failure with growing delays, keeping the same key, round and bytes', () => {
    let e = entry();
    const delays: number[] = [];
    let now = 1_000;
    for (let i = 0; i < 8; i++) {
      const t = afterAttempt(e, { kind: 'retry', reason: 'Cannot reach the server' }, now, () => 1);
      if (t.action !== 'reschedule') throw new Error('expected a reschedule');
      expect(t.entry.nextAttemptAt).toBe(now + t.delayMs);
      expect(t.entry).toMatchObject({ id: 'key-a', round: 3, studyId: 'heart-demo', baseVersion: 2, lastError: 'Cannot reach the server', attempts: i + 1 });
      expect(t.entry.body).toBe(e.body);
      delays.push(t.delayMs);
      now = t.entry.nextAttemptAt;
      e = t.entry;
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('does not mutate the entry it was given', () => {
    const e = entry();
    afterAttempt(e, { kind: 'retry', reason: 'x' }, 5_000, half);
    expect(e).toEqual(entry());
  });
});

describe('discardMessage', () => {
  it('names the round and what happened', () => {
    expect(discardMessage(7, 'duplicate_update', 'x')).toBe(
      'The server already counted another update from this hospital for round 7; this copy was discarded.',
    );
    expect(discardMessage(2, 'update_not_finite', 'the update holds NaN')).toBe(
      "The server refused this hospital's update for round 2 (the update holds NaN); it was discarded.",
    );
  });
});

describe('planDrain', () => {
  const a = entry({ id: 'a', createdAt: 100, attempts: 1, nextAttemptAt: 5_000 });
  const b = entry({ id: 'b', createdAt: 50, attempts: 3, nextAttemptAt: 2_000 });
  const fresh = entry({ id: 'c', createdAt: 2_500, attempts: 0, nextAttemptAt: 17_500 });

  it('takes due entries oldest first and wakes for the next one', () => {
    expect(planDrain([a, b, fresh], 1_000)).toEqual({ due: [], wakeAt: 2_000 });
    expect(planDrain([a, b, fresh], 2_000)).toEqual({ due: [b], wakeAt: 5_000 });
    const later = planDrain([a, b, fresh], 6_000);
    expect(later.due.map((e) => e.id)).toEqual(['b', 'a']);
    expect(later.wakeAt).toBe(17_500);
    expect(planDrain([], 0)).toEqual({ due: [], wakeAt: null });
  });

  it('on a nudge retries every entry that failed before, but leaves a fresh one to the tab sending it', () => {
    const p = planDrain([a, b, fresh], 3_000, { nudged: true });
    expect(p.due.map((e) => e.id)).toEqual(['b', 'a']);
    expect(p.wakeAt).toBe(17_500);
  });

  it('skips entries already on the wire from this tab', () => {
    expect(planDrain([a, b], 9_000, { busy: new Set(['b']) }).due.map((e) => e.id)).toEqual(['a']);
    expect(planDrain([b], 9_000, { busy: new Set(['b']), nudged: true })).toEqual({ due: [], wakeAt: null });
  });
});

describe('outboxStatusLine', () => {
  it('is silent when nothing waits', () => {
    expect(outboxStatusLine(viewOf([], new Set()), 0)).toBeNull();
  });

  it('counts the updates and says when the next attempt is', () => {
    const one = viewOf([entry({ attempts: 2, nextAttemptAt: 18_000 })], new Set());
    expect(outboxStatusLine(one, 10_000)).toBe('1 update waiting to be delivered — retrying in 8 s');
    expect(outboxStatusLine(one, 17_200)).toBe('1 update waiting to be delivered — retrying in 1 s');
    expect(outboxStatusLine(one, 18_000)).toBe('1 update waiting to be delivered — retrying now…');
    const two = viewOf([entry({ id: 'x', nextAttemptAt: 40_000 }), entry({ id: 'y', nextAttemptAt: 12_500 })], new Set());
    expect(outboxStatusLine(two, 10_000)).toBe('2 updates waiting to be delivered — retrying in 3 s');
    expect(outboxStatusLine(viewOf([entry({ id: 'x' })], new Set(['x'])), 10_000)).toBe('1 update waiting to be delivered — sending now…');
  });

  it('lists entries oldest first without their bytes', () => {
    const v = viewOf([entry({ id: 'late', createdAt: 9 }), entry({ id: 'early', createdAt: 1, lastError: 'down' })], new Set(['late']));
    expect(v.entries.map((e) => [e.id, e.sending, e.lastError])).toEqual([
      ['early', false, 'down'],
      ['late', true, null],
    ]);
    expect(v.entries[0]).not.toHaveProperty('body');
  });
});
