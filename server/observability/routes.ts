import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Handler } from 'hono';
import { getCookie } from 'hono/cookie';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ErrorCode } from '../../shared/protocol/errors';
import type { Sessions } from '../auth/sessions';
import { SESSION_COOKIE } from '../auth/tokens';
import { errorBody } from '../http/errors';
import { bearerOf, type AppEnv } from '../http/principal';
import type { Metrics } from './metrics';

export interface MetricsRouteDeps {
  metrics: Pick<Metrics, 'contentType' | 'exposition'>;
  /** `METRICS_TOKEN`: when set, a scrape must carry `Authorization: Bearer <token>`, and nothing else is let in. */
  token?: string;
  sessions: Pick<Sessions, 'check'>;
}

/**
 * `GET /metrics`, Prometheus's text format. Who may read it:
 * - with `METRICS_TOKEN` set, a request bearing that token, from anywhere (a Prometheus elsewhere on
 *   the hospital's network);
 * - without it, a request from this machine that no proxy forwarded (a Prometheus or agent on the
 *   same host), or a platform admin's session (the console's admin, in a browser). Anything else,
 *   a reverse proxy's request included, is refused, so that putting the server behind a public proxy
 *   never publishes the counts by accident.
 */
export function metricsHandler(deps: MetricsRouteDeps): Handler<AppEnv> {
  return async (c) => {
    const refusal = await refusalOf(c, deps);
    if (refusal) {
      c.header('WWW-Authenticate', 'Bearer realm="metrics"');
      return c.json(errorBody(refusal.status === 401 ? ErrorCode.Unauthenticated : ErrorCode.Forbidden, refusal.message), refusal.status);
    }
    const text = await deps.metrics.exposition();
    return c.body(text, 200, { 'content-type': deps.metrics.contentType, 'cache-control': 'no-store' });
  };
}

async function refusalOf(c: Context<AppEnv>, deps: MetricsRouteDeps): Promise<{ status: 401 | 403; message: string } | null> {
  if (deps.token) {
    const bearer = bearerOf(c.req.header('authorization'));
    if (!bearer) return { status: 401, message: 'metrics need the bearer token set in METRICS_TOKEN' };
    return sameToken(bearer, deps.token) ? null : { status: 401, message: 'wrong metrics token' };
  }
  if (fromThisMachine(c)) return null;
  const cookie = getCookie(c, SESSION_COOKIE);
  const { principal } = cookie ? await deps.sessions.check(cookie) : { principal: null };
  if (principal?.kind === 'admin') return null;
  const why = 'metrics are served to this machine and to platform admins; set METRICS_TOKEN to scrape them from another machine';
  return principal ? { status: 403, message: why } : { status: 401, message: why };
}

/** Compared as SHA-256 digests: constant time, whatever either length. */
function sameToken(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'];

/** A loopback peer, and no proxy header: a reverse proxy on this host would make every request look local. */
export function fromThisMachine(c: Context): boolean {
  if (FORWARDING_HEADERS.some((h) => c.req.header(h) !== undefined)) return false;
  let address: string | undefined;
  try {
    address = getConnInfo(c).remote.address;
  } catch {
    // Not served by @hono/node-server (app.request in tests): no peer to trust.
    return false;
  }
  return isLoopback(address);
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.replace(/^\[|\]$/g, '').toLowerCase();
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || a === '::1' || a === '0:0:0:0:0:0:0:1';
}
