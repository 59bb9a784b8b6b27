import { serve } from '@hono/node-server';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io as connect, type Socket } from 'socket.io-client';
import type { Ack, ClientToServerEvents, ServerToClientEvents } from '../../shared/protocol/events';
import type { RoundClosed, RoundOpen } from '../../shared/protocol/schemas';
import { createApp, type ConsiliumApp } from '../app';
import type { Clock } from '../clock';
import type { Database } from '../db/client';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface RunningServer {
  url: string;
  consilium: ConsiliumApp;
  stop(): Promise<void>;
}

/** createApp on a real HTTP server on a free port, with Socket.IO attached. */
export async function startServer(database: Database, opts: { clock?: Clock } = {}): Promise<RunningServer> {
  const consilium = await createApp({ database, clock: opts.clock });
  const server = await new Promise<HttpServer>((resolve) => {
    const s = serve({ fetch: consilium.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as HttpServer));
  });
  await consilium.attach(server);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    consilium,
    async stop() {
      server.closeAllConnections();
      await consilium.close();
      await new Promise((r) => server.close(r));
    },
  };
}

export function connectSocket(url: string, auth: { token?: string; cookie?: string }): Promise<ClientSocket> {
  const socket: ClientSocket = connect(url, {
    transports: ['websocket'],
    auth: auth.token ? { token: auth.token } : {},
    extraHeaders: auth.cookie ? { cookie: auth.cookie } : undefined,
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
