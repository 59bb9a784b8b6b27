import type { Principal } from '../auth/tokens';
import type { Clock } from '../clock';

/** A token bucket: holds at most `capacity` tokens (the burst) and gets `refillPerSecond` back each second. */
export interface BucketSpec {
  capacity: number;
  refillPerSecond: number;
}

/**
 * Every limit on what one Socket.IO connection may send. Each incoming event spends its cost from
 * its connection's bucket and from its account's, which all the account's sockets share (a second
 * tab, or a thousand sockets, of one account buy nothing more). An event that either bucket cannot
 * pay for is refused unread; too many refusals in a window and the socket is disconnected.
 */
export interface EventBudgetOptions {
  perConnection: BucketSpec;
  perAccount: BucketSpec;
  /** What an event costs, by name; events not named here (unknown ones included) cost `defaultCost`. */
  costs: Readonly<Record<string, number>>;
  defaultCost: number;
  /** This many refusals within `windowSeconds` disconnect the socket. */
  disconnectAfter: { refusals: number; windowSeconds: number };
}

/**
 * A hospital tab reports progress at most twice a second (web/hospital/progressThrottle.ts: one
 * report per 500 ms, plus a rare unthrottled "suspended"), joins once per (re)connect, sends its
 * statistics once and one evaluation per model version. Only one tab per browser profile connects
 * (web/hospital/tabCoordinator.ts). So a connection's steady 10 tokens a second is five times a tab's
 * progress, and its burst of 100 covers ten joins at once; an account's 30 a second and burst of
 * 300 leave room for a few machines signed in as one user (or one site link), and for a tab that
 * reconnects every 500 ms (Socket.IO's fastest reconnection delay in web/api/socket.ts) and re-joins
 * each time. A join costs 10: it reads and writes the database four or five times.
 * A flood is refused after 100 events and disconnected after 100 refusals more.
 */
export const defaultEventBudget: EventBudgetOptions = {
  perConnection: { capacity: 100, refillPerSecond: 10 },
  perAccount: { capacity: 300, refillPerSecond: 30 },
  costs: {
    'hospital:join': 10,
    'hospital:statistics': 5,
    'hospital:evaluation': 2,
    'hospital:progress': 1,
    'admin:watch': 5,
  },
  defaultCost: 1,
  disconnectAfter: { refusals: 100, windowSeconds: 10 },
};

/** The defaults with `overrides` laid over them (the two buckets, costs and abuse rule field by field). */
export function resolveEventBudget(overrides: Partial<EventBudgetOptions> = {}): EventBudgetOptions {
  const o: EventBudgetOptions = {
    perConnection: { ...defaultEventBudget.perConnection, ...overrides.perConnection },
    perAccount: { ...defaultEventBudget.perAccount, ...overrides.perAccount },
    costs: { ...defaultEventBudget.costs, ...overrides.costs },
    defaultCost: overrides.defaultCost ?? defaultEventBudget.defaultCost,
    disconnectAfter: { ...defaultEventBudget.disconnectAfter, ...overrides.disconnectAfter },
  };
  const cheapestCapacity = Math.min(o.perConnection.capacity, o.perAccount.capacity);
  for (const [name, b] of [['perConnection', o.perConnection], ['perAccount', o.perAccount]] as const)
    if (!(b.capacity >= 1) || !(b.refillPerSecond > 0)) throw new Error(`event budget ${name}: capacity must be ≥ 1 and the refill positive`);
  for (const [event, cost] of [...Object.entries(o.costs), ['(default)', o.defaultCost] as const])
    if (!(cost >= 0) || cost > cheapestCapacity) throw new Error(`event budget: ${event} costs ${cost}, which no bucket of capacity ${cheapestCapacity} could ever pay`);
  if (!(o.disconnectAfter.refusals >= 1) || !(o.disconnectAfter.windowSeconds > 0))
    throw new Error('event budget disconnectAfter: refusals must be ≥ 1 and the window positive');
  return o;
}

/** The key an account's sockets share its bucket under: never a token, so it can be logged. */
export function accountKey(p: Principal): string {
  if (p.kind === 'hospital') return `hospital:${p.siteId}:${p.userId ?? 'site-link'}`;
  return `${p.kind}:${p.userId}`;
}

class Bucket {
  tokens: number;
  private at: number;
  private readonly perMs: number;

  constructor(
    private readonly capacity: number,
    refillPerSecond: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.at = now;
    this.perMs = refillPerSecond / 1000;
  }

  refill(now: number): void {
    if (now <= this.at) return;
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.at) * this.perMs);
    this.at = now;
  }

  /** Milliseconds until it holds `cost` tokens (after `refill`). */
  waitFor(cost: number): number {
    return this.tokens >= cost ? 0 : (cost - this.tokens) / this.perMs;
  }

  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.capacity;
  }
}

interface AccountEntry {
  bucket: Bucket;
  sockets: number;
}

/** What `spend` decided. Plain numbers, so the refused path allocates nothing. */
export const Verdict = { Allowed: 0, Refused: 1, Disconnect: 2 } as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** One connection's view of the budget: its own bucket, its account's, and its recent refusals. */
export class ConnectionBudget {
  /** After a refusal: whole seconds (at least 1) until the refused event could be paid for. */
  retryAfterSeconds = 0;
  private readonly bucket: Bucket;
  private refusals = 0;
  private windowStart: number;
  private closed = false;

  constructor(
    private readonly owner: EventBudget,
    private readonly account: AccountEntry,
    readonly key: string,
  ) {
    const now = owner.clock.now();
    this.bucket = new Bucket(owner.options.perConnection.capacity, owner.options.perConnection.refillPerSecond, now);
    this.windowStart = now;
  }

  /** Spends an event's cost from both buckets, or neither; a refusal is counted towards disconnection. */
  spend(event: unknown): Verdict {
    const { options, clock } = this.owner;
    const cost = this.owner.costOf(event);
    const now = clock.now();
    const mine = this.bucket;
    const shared = this.account.bucket;
    mine.refill(now);
    shared.refill(now);
    if (mine.tokens >= cost && shared.tokens >= cost) {
      mine.tokens -= cost;
      shared.tokens -= cost;
      return Verdict.Allowed;
    }
    this.retryAfterSeconds = Math.max(1, Math.ceil(Math.max(mine.waitFor(cost), shared.waitFor(cost)) / 1000));
    const rule = options.disconnectAfter;
    if (now - this.windowStart >= rule.windowSeconds * 1000) {
      this.windowStart = now;
      this.refusals = 0;
    }
    return ++this.refusals >= rule.refusals ? Verdict.Disconnect : Verdict.Refused;
  }

  /** The socket is gone; its account's bucket stays until it has refilled, so reconnecting resets nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.account.sockets--;
  }
}

/** The server's event budgets: one bucket per live connection, one per account that has spent lately. */
export class EventBudget {
  readonly options: EventBudgetOptions;
  private readonly accounts = new Map<string, AccountEntry>();
  /** A Map, not the options' object: a client names the event, and `constructor` must not find Object's. */
  private readonly costs: Map<unknown, number>;
  private sweepAt = 1024;

  constructor(
    readonly clock: Clock,
    overrides: Partial<EventBudgetOptions> = {},
  ) {
    this.options = resolveEventBudget(overrides);
    this.costs = new Map(Object.entries(this.options.costs));
  }

  costOf(event: unknown): number {
    return this.costs.get(event) ?? this.options.defaultCost;
  }

  /** A new connection of the account `key` (see `accountKey`). */
  open(key: string): ConnectionBudget {
    let entry = this.accounts.get(key);
    if (!entry) {
      if (this.accounts.size >= this.sweepAt) this.sweep();
      const { capacity, refillPerSecond } = this.options.perAccount;
      entry = { bucket: new Bucket(capacity, refillPerSecond, this.clock.now()), sockets: 0 };
      this.accounts.set(key, entry);
    }
    entry.sockets++;
    return new ConnectionBudget(this, entry, key);
  }

  /** Accounts whose buckets are tracked (for tests: forgotten ones cost no memory). */
  get trackedAccounts(): number {
    return this.accounts.size;
  }

  /** Forgets accounts without a socket whose bucket is full again: a fresh one is the same. */
  sweep(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.accounts) if (entry.sockets <= 0 && entry.bucket.full(now)) this.accounts.delete(key);
    this.sweepAt = Math.max(1024, this.accounts.size * 2);
  }
}
