import { describe, expect, it } from 'vitest';
import type { Principal } from '../auth/tokens';
import { accountKey, defaultEventBudget, EventBudget, resolveEventBudget, Verdict, type EventBudgetOptions } from './eventBudget';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const small: Partial<EventBudgetOptions> = {
  perConnection: { capacity: 10, refillPerSecond: 2 },
  perAccount: { capacity: 15, refillPerSecond: 3 },
  costs: { 'hospital:join': 5, 'hospital:progress': 1 },
  defaultCost: 1,
  disconnectAfter: { refusals: 4, windowSeconds: 10 },
};

/** Spends `event` n times and counts each verdict. */
function spendMany(budget: { spend(e: string): Verdict }, event: string, n: number) {
  const counts = { allowed: 0, refused: 0, disconnect: 0 };
  for (let i = 0; i < n; i++) {
    const v = budget.spend(event);
    if (v === Verdict.Allowed) counts.allowed++;
    else if (v === Verdict.Refused) counts.refused++;
    else counts.disconnect++;
  }
  return counts;
}

describe('the event budget', () => {
  it('lets a connection spend its burst, then refuses and says when to retry', () => {
    const c = clock();
    const conn = new EventBudget(c, small).open('hospital:a:u');
    expect(spendMany(conn, 'hospital:progress', 10).allowed).toBe(10);
    expect(conn.spend('hospital:progress')).toBe(Verdict.Refused);
    // 2 tokens a second: one token is half a second away, said as a whole second.
    expect(conn.retryAfterSeconds).toBe(1);
    expect(conn.spend('hospital:join')).toBe(Verdict.Refused);
    expect(conn.retryAfterSeconds).toBe(3); // 5 tokens at 2 a second: 2.5 s, rounded up
  });

  it('refills with the clock, never beyond its capacity', () => {
    const c = clock();
    const conn = new EventBudget(c, small).open('hospital:a:u');
    spendMany(conn, 'hospital:progress', 10);
    c.advance(1_000);
    expect(spendMany(conn, 'hospital:progress', 3)).toEqual({ allowed: 2, refused: 1, disconnect: 0 });
    c.advance(3_600_000);
    // The connection's bucket is full again (10); the account's spent 12 of 15 and is full too.
    expect(spendMany(conn, 'hospital:progress', 11).allowed).toBe(10);
  });

  it('charges each event its cost, unknown events the default', () => {
    const c = clock();
    const conn = new EventBudget(c, small).open('hospital:a:u');
    expect(conn.spend('hospital:join')).toBe(Verdict.Allowed);
    expect(conn.spend('no-such-event')).toBe(Verdict.Allowed);
    expect(conn.spend('constructor')).toBe(Verdict.Allowed); // not Object.prototype.constructor's "cost"
    expect(spendMany(conn, 'hospital:progress', 4)).toEqual({ allowed: 3, refused: 1, disconnect: 0 });
    expect(conn.spend('hospital:join')).toBe(Verdict.Refused);
  });

  it('shares one bucket among all the connections of an account, not among accounts', () => {
    const c = clock();
    const budgets = new EventBudget(c, small);
    const first = budgets.open('hospital:a:u');
    const second = budgets.open('hospital:a:u');
    const other = budgets.open('hospital:b:u');
    expect(spendMany(first, 'hospital:progress', 10).allowed).toBe(10);
    // The account has 5 of its 15 left: the second socket gets those, not a fresh 10.
    expect(spendMany(second, 'hospital:progress', 6)).toEqual({ allowed: 5, refused: 1, disconnect: 0 });
    expect(second.retryAfterSeconds).toBe(1);
    expect(spendMany(other, 'hospital:progress', 10).allowed).toBe(10);
  });

  it('a reconnect does not reset the account: its bucket outlives its sockets until it refills', () => {
    const c = clock();
    const budgets = new EventBudget(c, small);
    const first = budgets.open('hospital:a:u');
    spendMany(first, 'hospital:progress', 10);
    first.close();
    budgets.sweep();
    expect(budgets.trackedAccounts).toBe(1);
    const again = budgets.open('hospital:a:u');
    expect(spendMany(again, 'hospital:progress', 10).allowed).toBe(5);
    again.close();
    c.advance(5_000); // 3 a second: full after 5 s
    budgets.sweep();
    expect(budgets.trackedAccounts).toBe(0);
  });

  it('asks for a disconnect after too many refusals within the window, not spread over longer', () => {
    const c = clock();
    const conn = new EventBudget(c, small).open('hospital:a:u');
    spendMany(conn, 'hospital:progress', 10);
    expect(spendMany(conn, 'hospital:progress', 3)).toEqual({ allowed: 0, refused: 3, disconnect: 0 });
    expect(conn.spend('hospital:progress')).toBe(Verdict.Disconnect);

    const slow = new EventBudget(c, { ...small, perConnection: { capacity: 5, refillPerSecond: 0.001 } }).open('hospital:b:u');
    spendMany(slow, 'hospital:progress', 5);
    for (let window = 0; window < 5; window++) {
      expect(spendMany(slow, 'hospital:progress', 3)).toEqual({ allowed: 0, refused: 3, disconnect: 0 });
      c.advance(10_000);
    }
  });

  it('names each account without its token', () => {
    const hospital: Principal = { kind: 'hospital', siteId: 's1', userId: 'u1', email: null, role: 'staff', sessionId: null };
    expect(accountKey(hospital)).toBe('hospital:s1:u1');
    expect(accountKey({ ...hospital, userId: null })).toBe('hospital:s1:site-link');
    expect(accountKey({ kind: 'admin', userId: 'a1', email: 'a@x', sessionId: 's' })).toBe('admin:a1');
    expect(accountKey({ kind: 'patient', userId: 'p1', email: 'p@x', sessionId: 's' })).toBe('patient:p1');
  });

  it('refuses settings under which an event could never be paid for', () => {
    expect(() => resolveEventBudget({ costs: { 'hospital:join': 500 } })).toThrow(/hospital:join costs 500/);
    expect(() => resolveEventBudget({ perAccount: { capacity: 0, refillPerSecond: 1 } })).toThrow(/perAccount/);
    expect(() => resolveEventBudget({ disconnectAfter: { refusals: 0, windowSeconds: 1 } })).toThrow(/disconnectAfter/);
    expect(resolveEventBudget({ perConnection: { capacity: 50, refillPerSecond: 5 } }).costs).toEqual(defaultEventBudget.costs);
  });

  it('the defaults carry a hospital tab: progress twice a second, and a flaky one re-joining every 500 ms, for an hour', () => {
    const c = clock();
    const budgets = new EventBudget(c, {});
    let refused = 0;
    let steady = budgets.open('hospital:a:u');
    let flaky = budgets.open('hospital:b:u');
    for (let ms = 0; ms < 3_600_000; ms += 500) {
      if (steady.spend('hospital:progress') !== Verdict.Allowed) refused++;
      if (ms % 60_000 === 0 && steady.spend('hospital:evaluation') !== Verdict.Allowed) refused++;
      // Socket.IO's fastest reconnection: a new connection each 500 ms, which joins and reports.
      flaky.close();
      flaky = budgets.open('hospital:b:u');
      if (flaky.spend('hospital:join') !== Verdict.Allowed) refused++;
      if (flaky.spend('hospital:progress') !== Verdict.Allowed) refused++;
      c.advance(500);
    }
    expect(refused).toBe(0);
  });
});
