import { io, type Socket } from 'socket.io-client';
import type { Ack, ClientToServerEvents, ServerToClientEvents } from '../../shared/protocol';
import { ApiRequestError, isLinkToken } from './http';

export type ConsiliumSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * Same-origin Socket.IO connection. A tab opened from a sign-in link authenticates with the link's
 * token; a signed-in page with its session cookie, which the browser sends on its own.
 */
export function createSocket(opts: { token?: string } = {}): ConsiliumSocket {
  return io({
    auth: isLinkToken(opts.token) ? { token: opts.token } : undefined,
    withCredentials: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5_000,
  });
}

type AckedEvent = keyof ClientToServerEvents;
type RequestOf<E extends AckedEvent> = Parameters<ClientToServerEvents[E]>[0];
type ResultOf<E extends AckedEvent> = Parameters<ClientToServerEvents[E]>[1] extends (res: Ack<infer T>) => void ? T : never;

/**
 * How long to wait before sending again an event the server refused as `rate_limited` (its message
 * says "try again in N s"); null for any other error.
 */
export function rateLimitedRetryMs(e: unknown): number | null {
  if (!(e instanceof ApiRequestError) || e.code !== 'rate_limited') return null;
  const seconds = Number(/try again in (\d+) s/.exec(e.message)?.[1]);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : 5) * 1000;
}

/** Emits an event and resolves with the ack's data, or rejects with its error (or a timeout). */
export function emitWithAck<E extends AckedEvent>(
  socket: ConsiliumSocket,
  event: E,
  payload: RequestOf<E>,
  timeoutMs = 10_000,
): Promise<ResultOf<E>> {
  return new Promise((resolve, reject) => {
    // The typed overloads cannot express a generic event name; the runtime call is the plain one.
    const emitter = socket.timeout(timeoutMs) as unknown as {
      emit(ev: string, payload: unknown, cb: (err: Error | null, res: Ack<ResultOf<E>>) => void): void;
    };
    emitter.emit(event, payload, (err, res) => {
      if (err) return reject(new ApiRequestError('network', `No answer to ${event} within ${timeoutMs} ms`));
      if (!res || typeof res !== 'object') return reject(new ApiRequestError('internal', `Malformed answer to ${event}`));
      if (res.ok) resolve(res.data);
      else reject(new ApiRequestError(res.error.code, res.error.message));
    });
  });
}
