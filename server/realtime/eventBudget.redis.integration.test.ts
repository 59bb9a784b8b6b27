import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPrefix, twoProcesses } from '../testing/redis';
import { EventBudget, Verdict, type EventBudgetOptions } from './eventBudget';

// An account may spend 20 in 40 s; a connection far more, so only the account's budget is under test.
const options: Partial<EventBudgetOptions> = {
  perConnection: { capacity: 100, refillPerSecond: 10 },
  perAccount: { capacity: 20, refillPerSecond: 0.5 },
  costs: { 'hospital:progress': 1 },
  defaultCost: 1,
  disconnectAfter: { refusals: 100, windowSeconds: 10 },
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

/** Two server processes, each with its own budgets and Redis connection, as behind a load balancer. */
describe('the account event budget shared through Redis', () => {
  const prefix = testPrefix('');
  // Frozen: no local bucket refills during a test, so every count is exact.
  const clock = { now: () => Date.parse('2030-01-01T00:00:00Z') };
  let redisA: Redis;
  let redisB: Redis;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ a: redisA, b: redisB, close } = await twoProcesses(prefix));
  });
  afterAll(() => close());

  it('refuses an account on both processes once its events on the two together pass its budget', async () => {
    const a = new EventBudget(clock, options, { redis: redisA, prefix });
    const b = new EventBudget(clock, options, { redis: redisB, prefix });
    const account = `hospital:site-${randomBytes(4).toString('hex')}:u1`;
    const onA = a.open(account);
    const onB = b.open(account);

    // Half the account's budget on each process: each process alone sees nothing wrong.
    expect(spendMany(onA, 'hospital:progress', 10).allowed).toBe(10);
    expect(spendMany(onB, 'hospital:progress', 10).allowed).toBe(10);
    await Promise.all([a.flushShared(), b.flushShared()]);
    // Exactly the budget, not past it: still welcome.
    expect(onA.spend('hospital:progress')).toBe(Verdict.Allowed); // the 21st: A does not know yet
    await a.flushShared();
    // Redis answered that the account is over: A refuses it, for Redis's window.
    expect(onA.spend('hospital:progress')).toBe(Verdict.Refused);
    expect(onA.retryAfterSeconds).toBeGreaterThan(30);
    expect(onA.retryAfterSeconds).toBeLessThanOrEqual(40);
    // B learns on its next event, one round trip late (the documented lag), and refuses from then on.
    expect(onB.spend('hospital:progress')).toBe(Verdict.Allowed);
    await b.flushShared();
    expect(spendMany(onB, 'hospital:progress', 5)).toEqual({ allowed: 0, refused: 5, disconnect: 0 });
    // A new socket of the same account on B is refused too: the account is over, not the connection.
    expect(b.open(account).spend('hospital:progress')).toBe(Verdict.Refused);
    // Another account on either process is untouched.
    expect(spendMany(b.open(`${account}-other`), 'hospital:progress', 10).allowed).toBe(10);
    expect(spendMany(a.open(`${account}-other2`), 'hospital:progress', 10).allowed).toBe(10);
    await Promise.all([a.flushShared(), b.flushShared()]);
  });

  it('without Redis, each process keeps its local budgets and reports the failure', async () => {
    // A client that never reaches a Redis: as during an outage, it is not "ready".
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    const errors: unknown[] = [];
    try {
      const budget = new EventBudget(clock, options, { redis: down, prefix, onError: (err) => errors.push(err) });
      const conn = budget.open('hospital:s:u');
      expect(spendMany(conn, 'hospital:progress', 25)).toEqual({ allowed: 20, refused: 5, disconnect: 0 });
      await budget.flushShared();
      expect(spendMany(budget.open('hospital:t:u'), 'hospital:progress', 3).allowed).toBe(3);
      await budget.flushShared();
      // Said once for the outage, not once per event.
      expect(errors).toHaveLength(1);
    } finally {
      down.disconnect();
    }
  });

  it('flushShared() resolves at once in one-process mode', async () => {
    const budget = new EventBudget(clock, options);
    expect(spendMany(budget.open('hospital:s:u'), 'hospital:progress', 21)).toEqual({ allowed: 20, refused: 1, disconnect: 0 });
    await budget.flushShared();
  });
});
