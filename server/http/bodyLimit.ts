import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { except } from 'hono/combine';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';

/** JSON bodies of the API are small: forms, reports, chat messages. Weights are the exception. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

/** Refuse a request body over `maxBytes` with 413 before any route reads it. */
export function limitBody(maxBytes: number, what = 'a request body'): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ConsiliumError(ErrorCode.PayloadTooLarge, `${what} may not exceed ${maxBytes} bytes`, 413);
    },
  });
}

/**
 * The default limit for every route but those in `exempt` (Hono path patterns), which carry their own
 * (update uploads, sized to the model): a default that ran first would cut them short.
 */
export function defaultBodyLimit(opts: { maxBytes?: number; exempt?: string[] } = {}): MiddlewareHandler {
  const limit = limitBody(opts.maxBytes ?? DEFAULT_BODY_LIMIT_BYTES);
  return opts.exempt?.length ? except(opts.exempt, limit) : limit;
}
