import { Hono } from 'hono';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../shared/protocol/errors';
import { DEFAULT_BODY_LIMIT_BYTES, defaultBodyLimit, limitBody } from './bodyLimit';
import { errorHandler } from './errors';

const UPLOAD_LIMIT = 200 * 1024;

/** The server's arrangement in small: a default for /api, and an upload route with its own, larger limit. */
function app() {
  const a = new Hono();
  a.onError(errorHandler(pino({ level: 'silent' })));
  a.use('/api/*', defaultBodyLimit({ exempt: ['/api/studies/:id/rounds/:round/updates'] }));
  a.post('/api/auth/login', async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }));
  a.post('/api/studies/:id/rounds/:round/updates', limitBody(UPLOAD_LIMIT, 'an update'), async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }));
  return a;
}

const bytes = (n: number) => new Uint8Array(n).fill(7);

/** A body without Content-Length, the way a client streaming it would send it. */
function streamed(n: number) {
  return new ReadableStream<Uint8Array>({
    start(ctl) {
      for (let sent = 0; sent < n; sent += 8192) ctl.enqueue(bytes(Math.min(8192, n - sent)));
      ctl.close();
    },
  });
}

async function post(path: string, body: BodyInit) {
  const res = await app().request(path, { method: 'POST', body, duplex: 'half' } as RequestInit);
  return { status: res.status, body: (await res.json()) as { bytes?: number; error?: { code: string; message: string } } };
}

describe('body-size limits', () => {
  it('lets a body of up to 64 KiB through to any API route', async () => {
    expect(await post('/api/auth/login', bytes(DEFAULT_BODY_LIMIT_BYTES))).toEqual({ status: 200, body: { bytes: 65536 } });
  });

  it('refuses a larger one with 413 and a JSON error, whether it says its length or streams', async () => {
    for (const body of [bytes(DEFAULT_BODY_LIMIT_BYTES + 1), streamed(DEFAULT_BODY_LIMIT_BYTES + 1)]) {
      const res = await post('/api/auth/login', body);
      expect(res.status).toBe(413);
      expect(res.body.error).toEqual({ code: ErrorCode.PayloadTooLarge, message: 'a request body may not exceed 65536 bytes' });
    }
  });

  it('leaves update uploads to their own limit, sized to the model', async () => {
    expect(await post('/api/studies/s1/rounds/3/updates', bytes(UPLOAD_LIMIT))).toEqual({ status: 200, body: { bytes: UPLOAD_LIMIT } });
    expect(await post('/api/studies/s1/rounds/3/updates', streamed(UPLOAD_LIMIT))).toEqual({ status: 200, body: { bytes: UPLOAD_LIMIT } });
    const over = await post('/api/studies/s1/rounds/3/updates', bytes(UPLOAD_LIMIT + 1));
    expect(over.status).toBe(413);
    expect(over.body.error?.message).toBe(`an update may not exceed ${UPLOAD_LIMIT} bytes`);
  });

  it('takes another default when given one', async () => {
    const a = new Hono();
    a.onError(errorHandler(pino({ level: 'silent' })));
    a.use('*', defaultBodyLimit({ maxBytes: 10 }));
    a.post('/x', (c) => c.text('ok'));
    expect((await a.request('/x', { method: 'POST', body: '0123456789' })).status).toBe(200);
    expect((await a.request('/x', { method: 'POST', body: '0123456789!' })).status).toBe(413);
  });
});
