import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
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
  /** Until then (clock ms) the shared budget says the account is spent: every event is refused. */
  blockedUntil: number;
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
    const blockedFor = this.account.blockedUntil - now;
    mine.refill(now);
    shared.refill(now);
    if (mine.tokens >= cost && shared.tokens >= cost && blockedFor <= 0) {
      mine.tokens -= cost;
      shared.tokens -= cost;
      this.owner.spentShared(this.key, cost);
      return Verdict.Allowed;
    }
    this.retryAfterSeconds = Math.max(1, Math.ceil(Math.max(mine.waitFor(cost), shared.waitFor(cost), blockedFor) / 1000));
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

/** Where several server processes count each account's events together. */
export interface SharedEventBudgetOptions {
  /** An ioredis client; every process given the same Redis (and prefix) shares each account's budget. */
  redis: Redis;
  /** Prefix of the Redis keys (default 'consilium:'); an account's counter is `<prefix>events:account:<key>`. */
  prefix?: string;
  /** Told when Redis fails, once per outage (not once per event); the local budgets keep applying meanwhile. */
  onError?: (err: unknown) => void;
}

/**
 * The account budget as a fixed window in Redis: `capacity` points per `capacity / refillPerSecond`
 * seconds, the time the local bucket takes to refill from empty, so one account gets about what one
 * process would give it, whichever processes its sockets land on.
 */
class SharedAccountBudget {
  private readonly limiter: RateLimiterRedis;
  /** Points spent locally and not yet sent to Redis: events of one tick go as one call per account. */
  private pending = new Map<string, number>();
  private scheduled: NodeJS.Immediate | null = null;
  private readonly inflight = new Set<Promise<void>>();
  private failing = false;

  constructor(
    private readonly owner: EventBudget,
    private readonly opts: SharedEventBudgetOptions,
  ) {
    const { capacity, refillPerSecond } = owner.options.perAccount;
    this.limiter = new RateLimiterRedis({
      storeClient: opts.redis,
      keyPrefix: `${opts.prefix ?? 'consilium:'}events:account`,
      points: capacity,
      duration: Math.max(1, Math.ceil(capacity / refillPerSecond)),
      // A Redis that is reconnecting fails at once instead of queueing: the local budget stands in.
      rejectIfRedisNotReady: true,
    });
  }

  add(key: string, cost: number): void {
    this.pending.set(key, (this.pending.get(key) ?? 0) + cost);
    this.scheduled ??= setImmediate(() => this.send());
  }

  private send(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    const batch = this.pending;
    this.pending = new Map();
    for (const [key, points] of batch) {
      // Redis counts whole points; a fractional cost is rounded up rather than lost.
      const whole = Math.ceil(points);
      if (whole <= 0) continue;
      const done = this.limiter.consume(key, whole).then(
        () => {
          this.failing = false;
        },
        (err: unknown) => {
          if (err instanceof RateLimiterRes) {
            this.failing = false;
            this.owner.blockShared(key, err.msBeforeNext);
          } else if (!this.failing) {
            this.failing = true;
            this.opts.onError?.(err);
          }
        },
      );
      this.inflight.add(done);
      void done.finally(() => this.inflight.delete(done));
    }
  }

  /** Sends what is pending now and resolves once every consume so far has been answered. */
  async flush(): Promise<void> {
    if (this.pending.size > 0) this.send();
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }
}

/**
 * The server's event budgets: one bucket per live connection, one per account that has spent lately.
 *
 * With `shared`, several processes behind one load balancer count each account together. A
 * connection lives on one process, so its bucket stays local; an account's sockets may be on every
 * process. `spend` must stay synchronous (it runs in `socket.use`, before any handler), so each
 * process still decides from its own buckets and also spends the same points in Redis afterwards;
 * when Redis answers that the account is over, this process refuses the account's events until
 * Redis's window ends. The shared limit is therefore eventually consistent: a process learns that
 * another one spent the account one round trip after its own next allowed event, so an account may
 * pass its budget by the events in flight during that round trip on each process, never by more.
 * If Redis fails, each process keeps its local budgets, as in one-process mode.
 */
export class EventBudget {
  readonly options: EventBudgetOptions;
  private readonly accounts = new Map<string, AccountEntry>();
  /** A Map, not the options' object: a client names the event, and `constructor` must not find Object's. */
  private readonly costs: Map<unknown, number>;
  private sweepAt = 1024;
  private readonly shared: SharedAccountBudget | null;

  constructor(
    readonly clock: Clock,
    overrides: Partial<EventBudgetOptions> = {},
    shared?: SharedEventBudgetOptions,
  ) {
    this.options = resolveEventBudget(overrides);
    this.costs = new Map(Object.entries(this.options.costs));
    this.shared = shared ? new SharedAccountBudget(this, shared) : null;
  }

  /** An allowed event's cost, also spent on the shared budget (no-op in one-process mode). */
  spentShared(key: string, cost: number): void {
    if (this.shared && cost > 0) this.shared.add(key, cost);
  }

  /** Redis says the account is over its shared budget for `ms` more: refuse it here too until then. */
  blockShared(key: string, ms: number): void {
    let entry = this.accounts.get(key);
    if (!entry) {
      // Swept meanwhile (no socket, full bucket): kept, so a reconnect within the window is refused too.
      const { capacity, refillPerSecond } = this.options.perAccount;
      entry = { bucket: new Bucket(capacity, refillPerSecond, this.clock.now()), sockets: 0, blockedUntil: 0 };
      this.accounts.set(key, entry);
    }
    entry.blockedUntil = Math.max(entry.blockedUntil, this.clock.now() + ms);
  }

  /** Resolves once every shared spend so far has been answered by Redis (at once without a shared store). */
  flushShared(): Promise<void> {
    return this.shared ? this.shared.flush() : Promise.resolve();
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
      entry = { bucket: new Bucket(capacity, refillPerSecond, this.clock.now()), sockets: 0, blockedUntil: 0 };
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
    for (const [key, entry] of this.accounts) if (entry.sockets <= 0 && entry.bucket.full(now) && entry.blockedUntil <= now) this.accounts.delete(key);
    this.sweepAt = Math.max(1024, this.accounts.size * 2);
  }
}
