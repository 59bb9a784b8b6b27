import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Env, MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { ErrorCode } from '../../shared/protocol/errors';
import { errorBody } from './errors';

/** A budget: `points` requests per key within `durationSeconds`. */
export interface LimitSpec {
  points: number;
  durationSeconds: number;
}

/** Every limit the server applies; each can be overridden through `createApp({ rateLimits })`. */
export interface RateLimitSettings {
  /** Password guesses against one account, from anywhere. */
  loginPerEmail: LimitSpec;
  /** Sign-in attempts from one address, whatever the accounts. */
  loginPerAddress: LimitSpec;
  /** Invite codes tried from one address. */
  inviteRedeemPerAddress: LimitSpec;
  /** Update uploads by one account (or hospital link); one per round is normal. */
  uploadsPerAccount: LimitSpec;
  /** Chatbot requests from one address: patients may be anonymous, so the address is the only handle. */
  chatPerAddress: LimitSpec;
}

const MINUTE = 60;
export const defaultRateLimits: RateLimitSettings = {
  loginPerEmail: { points: 5, durationSeconds: 15 * MINUTE },
  loginPerAddress: { points: 30, durationSeconds: 15 * MINUTE },
  inviteRedeemPerAddress: { points: 10, durationSeconds: 15 * MINUTE },
  uploadsPerAccount: { points: 30, durationSeconds: MINUTE },
  chatPerAddress: { points: 30, durationSeconds: MINUTE },
};

/**
 * A named budget with its own counters: in this process's memory, or in Redis when several server
 * processes must share one budget (see `SharedLimitOptions`).
 */
export interface Limiter extends LimitSpec {
  name: string;
  store: RateLimiterAbstract;
}

/** Where the counters live when several processes share them. */
export interface SharedLimitOptions {
  /** An ioredis client: every process given the same Redis (and prefix) counts against one budget. */
  redis?: Redis;
  /** Prefix of the Redis keys (default 'consilium:rl:'); each limiter's keys are `<prefix><name>:<key>`. */
  prefix?: string;
}

export function createLimiter(name: string, spec: LimitSpec, shared: SharedLimitOptions = {}): Limiter {
  if (!(spec.points >= 1) || !(spec.durationSeconds > 0)) throw new Error(`rate limit ${name}: points must be ≥ 1 and the duration positive`);
  const memory = new RateLimiterMemory({ keyPrefix: name, points: spec.points, duration: spec.durationSeconds });
  if (!shared.redis) return { name, ...spec, store: memory };
  const store = new RateLimiterRedis({
    // ioredis is detected by itself (useRedisPackage is for node-redis); the key prefix names the setting, so
    // every process that reads the same settings shares each budget.
    storeClient: shared.redis,
    keyPrefix: `${shared.prefix ?? 'consilium:rl:'}${name}`,
    points: spec.points,
    duration: spec.durationSeconds,
    // While Redis is down, each process limits on its own rather than refuse everyone or queue requests
    // behind a reconnecting client: the budget is per process for the outage, never absent.
    rejectIfRedisNotReady: true,
    insuranceLimiter: memory,
  });
  return { name, ...spec, store };
}

export type RateLimiters = { [K in keyof RateLimitSettings]: Limiter };

/** One limiter per setting, with the defaults under any overrides; shared through Redis when given one. */
export function createRateLimiters(overrides: Partial<RateLimitSettings> = {}, shared: SharedLimitOptions = {}): RateLimiters {
  const settings = { ...defaultRateLimits, ...overrides };
  return Object.fromEntries(Object.entries(settings).map(([name, spec]) => [name, createLimiter(name, spec, shared)])) as RateLimiters;
}

export type ConsumeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * Spend one point from each key's budget (say an account and an address); every one must have a
 * point left. Empty keys are skipped, so a request that lacks one is held to the others. Usable from
 * Socket.IO handlers as well as from the HTTP middleware.
 */
export async function consume(limiter: Limiter, keys: readonly (string | null | undefined)[]): Promise<ConsumeResult> {
  const distinct = [...new Set(keys.filter((k): k is string => !!k))];
  const results = await Promise.allSettled(distinct.map((k) => limiter.store.consume(k)));
  let waitMs = -1;
  for (const r of results) {
    if (r.status === 'fulfilled') continue;
    if (!(r.reason instanceof RateLimiterRes)) throw r.reason;
    waitMs = Math.max(waitMs, r.reason.msBeforeNext);
  }
  return waitMs < 0 ? { ok: true } : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
}

export type KeysOf<E extends Env> = (c: Context<E>) => (string | null | undefined)[] | Promise<(string | null | undefined)[]>;

export interface RateLimitOptions<E extends Env> {
  /** An existing limiter (shared with a Socket.IO handler, say), or a new one from name, points and duration. */
  limiter?: Limiter;
  name?: string;
  points?: number;
  durationSeconds?: number;
  /** The keys this request is counted under; each must have a point left. */
  keys: KeysOf<E>;
  /** Only these methods count (default: every method). */
  methods?: readonly string[];
  /** Said to the client with the 429. */
  message?: string;
}

/** Answers 429 with `Retry-After` (whole seconds) once any of the request's keys has spent its budget. */
export function rateLimit<E extends Env>(opts: RateLimitOptions<E>): MiddlewareHandler<E> {
  const limiter =
    opts.limiter ??
    createLimiter(opts.name ?? 'requests', { points: opts.points ?? defaultRateLimits.chatPerAddress.points, durationSeconds: opts.durationSeconds ?? MINUTE });
  const methods = opts.methods?.map((m) => m.toUpperCase());
  return async (c, next) => {
    if (methods && !methods.includes(c.req.method)) return next();
    const result = await consume(limiter, await opts.keys(c));
    if (result.ok) return next();
    const message = opts.message ?? 'too many requests';
    return c.json(errorBody(ErrorCode.RateLimited, `${message}: try again in ${result.retryAfterSeconds} s`), 429, {
      'Retry-After': String(result.retryAfterSeconds),
    });
  };
}

/**
 * The key for one client address. IPv4-mapped IPv6 is read as IPv4; an IPv6 address counts by its /64,
 * since one household or attacker is routinely handed a whole /64.
 */
export function normaliseAddress(raw: string | undefined | null): string {
  const a = (raw ?? '').trim().replace(/^\[|\]$/g, '');
  if (!a) return 'unknown';
  const mapped = a.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i);
  if (mapped) return mapped[1];
  if (!a.includes(':')) return a;
  const [head, tail = ''] = a.split('%')[0].split('::');
  const left = head ? head.split(':') : [];
  const right = a.includes('::') && tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}

/**
 * The client's address: the socket's peer, or, behind `trustProxyHops` reverse proxies, the entry of
 * X-Forwarded-For that the nearest trusted proxy appended (earlier entries can be forged by the client).
 */
export function clientAddress(remote: string | undefined, forwardedFor: string | undefined, trustProxyHops = 0): string {
  if (trustProxyHops > 0 && forwardedFor) {
    const hops = forwardedFor
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const entry = hops[hops.length - trustProxyHops] ?? hops[0];
    if (entry) return normaliseAddress(entry);
  }
  return normaliseAddress(remote);
}

/** The requesting address of an HTTP request served by @hono/node-server ('unknown' elsewhere, as in app.request). */
export function addressOf(c: Context, trustProxyHops = 0): string {
  let remote: string | undefined;
  try {
    remote = getConnInfo(c).remote.address;
  } catch {
    remote = undefined;
  }
  return clientAddress(remote, c.req.header('x-forwarded-for'), trustProxyHops);
}

/** The signed-in account (user, or the hospital a link token stands for), or null when signed out. */
export function accountOf(c: Context): string | null {
  const p = c.get('principal') as { userId?: unknown; siteId?: unknown } | null | undefined;
  if (typeof p?.userId === 'string') return `user:${p.userId}`;
  if (typeof p?.siteId === 'string') return `site:${p.siteId}`;
  return null;
}

/**
 * A string field of the JSON body, read from a clone so the route still gets the body; null if absent.
 * The Content-Type is not consulted: the routes parse JSON whatever it says, and so must the limit.
 */
export async function jsonFieldOf(c: Context, field: string): Promise<string | null> {
  try {
    const body: unknown = await c.req.raw.clone().json();
    const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[field] : undefined;
    return typeof value === 'string' && value.trim() ? value.trim().toLowerCase() : null;
  } catch {
    return null;
  }
}
