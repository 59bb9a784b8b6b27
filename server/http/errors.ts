import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { ConsiliumError, ErrorCode, type ApiError } from '../../shared/protocol/errors';

export function errorBody(code: ErrorCode, message: string): { error: ApiError } {
  return { error: { code, message } };
}

/** A request path fit for the log: an invite code or a sign-in link in it is a secret, and is left out. */
export function loggablePath(path: string): string {
  return path.replace(/(\/invites\/)(?!redeem$)[^/]+/, '$1…').replace(/(\/hospital\/)[^/]+/, '$1…');
}

/** Every error leaves the server as `{ error: { code, message } }` with a fitting status. */
export function errorHandler(log: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof ConsiliumError) return c.json(errorBody(err.code, err.message), err.status as ContentfulStatusCode);
    if (err instanceof ZodError)
      return c.json(
        errorBody(ErrorCode.BadRequest, err.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')),
        400,
      );
    if (err instanceof HTTPException) {
      const code = err.status === 413 ? ErrorCode.PayloadTooLarge : err.status === 401 ? ErrorCode.Unauthenticated : ErrorCode.BadRequest;
      return c.json(errorBody(code, err.message || 'request refused'), err.status);
    }
    log.error({ err, path: loggablePath(c.req.path) }, 'unhandled error');
    return c.json(errorBody(ErrorCode.Internal, 'internal server error'), 500);
  };
}
