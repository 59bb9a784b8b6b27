import { serve } from '@hono/node-server';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io as connect, type Socket } from 'socket.io-client';
import type { Ack, ClientToServerEvents, ServerToClientEvents } from '../../shared/protocol/events';
import type { RoundClosed, RoundOpen } from '../../shared/protocol/schemas';
import { createApp, type AppDeps, type ConsiliumApp } from '../app';
import type { Clock } from '../clock';
import type { Database } from '../db/client';
import type { Role } from '../db/schema';
import { createUser } from '../auth/accounts';
import { CSRF_COOKIE, REFRESH_COOKIE, SESSION_COOKIE } from '../auth/tokens';
import { randomUUID } from 'node:crypto';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface RunningServer {
  url: string;
  database: Database;
  consilium: ConsiliumApp;
  stop(): Promise<void>;
}

/** createApp on a real HTTP server on a free port, with Socket.IO attached. */
export async function startServer(database: Database, opts: Omit<AppDeps, 'database'> = {}): Promise<RunningServer> {
  // In-process hospitals upload as fast as rounds close: the harness lifts the per-account upload limit.
  const rateLimits = { uploadsPerAccount: { points: 1_000_000, durationSeconds: 60 }, ...opts.rateLimits };
  const consilium = await createApp({ ...opts, rateLimits, database });
  const server = await new Promise<HttpServer>((resolve) => {
    const s = serve({ fetch: consilium.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as HttpServer));
  });
  await consilium.attach(server);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    database,
    consilium,
    async stop() {
      server.closeAllConnections();
      await consilium.close();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Headers of a signed-in session: the cookies a browser would hold, and the CSRF header its page sends. */
export interface SessionHeaders extends Record<string, string> {
  cookie: string;
  'x-csrf-token': string;
}

/**
 * Sign a new account in, as the browser would after a password sign-in: a user of `role` (a platform
 * admin unless told), its session, and the headers that carry it.
 */
export async function signIn(
  server: RunningServer,
  opts: { role?: Role; email?: string; siteId?: string } = {},
): Promise<SessionHeaders & { userId: string }> {
  const role = opts.role ?? 'platform_admin';
  const email = opts.email ?? `${role.replace('_', '-')}-${randomUUID().slice(0, 8)}@test.local`;
  const user = await createUser(server.database.db, { email, password: 'correct horse battery', role, siteId: opts.siteId ?? null });
  const s = await server.consilium.sessions.start(user.id);
  return { userId: user.id, cookie: `${SESSION_COOKIE}=${s.access}; ${REFRESH_COOKIE}=${s.refresh}; ${CSRF_COOKIE}=${s.csrf}`, 'x-csrf-token': s.csrf };
}

export function connectSocket(url: string, auth: { token?: string; cookie?: string }): Promise<ClientSocket> {
  const socket: ClientSocket = connect(url, {
    transports: ['websocket'],
    auth: auth.token ? { token: auth.token } : {},
    // A browser sends its page's origin; the server accepts a session cookie only from its own.
    extraHeaders: auth.cookie ? { cookie: auth.cookie, origin: url } : undefined,
    reconnection: false,
    forceNew: true,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(err));
  });
}

export async function emitAck<E extends keyof ClientToServerEvents>(
  socket: ClientSocket,
  event: E,
  payload: Parameters<ClientToServerEvents[E]>[0],
): Promise<Ack<unknown>> {
  return (socket as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<unknown>> }).emitWithAck(event, payload);
}

/** Resolves with the next event of that name (with a timeout, so a missing event fails the test clearly). */
export function nextEvent<E extends 'round:open' | 'round:closed'>(
  socket: ClientSocket,
  event: E,
  timeoutMs = 15_000,
): Promise<E extends 'round:open' ? RoundOpen : RoundClosed> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    (socket as unknown as { once(e: string, fn: (p: never) => void): void }).once(event, (payload) => {
      clearTimeout(t);
      resolve(payload);
    });
  });
}
