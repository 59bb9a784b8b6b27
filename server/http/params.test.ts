import { Hono } from 'hono';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { studyIdParamSchema, versionOrApprovedParamSchema, wholeNumberParamSchema } from '../../shared/protocol/params';
import { errorHandler } from './errors';
import { pathParam, queryParams } from './params';

const app = new Hono();
app.onError(errorHandler(pino({ level: 'silent' })));
app.get('/n/:n', (c) => c.json({ n: pathParam(c, 'n', wholeNumberParamSchema) }));
app.get('/v/:version', (c) => c.json({ v: pathParam(c, 'version', versionOrApprovedParamSchema) }));
app.get('/s/:id', (c) => c.json({ id: pathParam(c, 'id', studyIdParamSchema) }));
app.get('/q', (c) => c.json(queryParams(c, z.object({ limit: z.coerce.number().int().min(1).max(10).default(5), tag: z.string().max(3).optional() }))));

const get = async (path: string) => {
  const res = await app.request(path);
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } & Record<string, unknown> };
};

describe('path and query parameters', () => {
  it('takes whole numbers from 0 to the largest PostgreSQL integer, digits only', async () => {
    for (const [text, n] of [['0', 0], ['42', 42], ['007', 7], ['2147483647', 2147483647]] as const) expect(await get(`/n/${text}`)).toEqual({ status: 200, body: { n } });
    for (const text of ['2147483648', '99999999999', '-1', '1.5', '1e3', '0x10', 'abc', '%20', 'Infinity', '9'.repeat(400)]) {
      const { status, body } = await get(`/n/${text}`);
      expect(status, text).toBe(400);
      expect(body.error?.code).toBe('bad_request');
      expect(body.error?.message, text).toMatch(/^path parameter n: must be a whole number from 0 to 2147483647 \(got '.*'\)$/);
    }
  });

  it("takes 'approved' where a route says so, and names it in the reason", async () => {
    expect(await get('/v/approved')).toEqual({ status: 200, body: { v: 'approved' } });
    expect(await get('/v/3')).toEqual({ status: 200, body: { v: 3 } });
    expect((await get('/v/latest')).body.error?.message).toBe("path parameter version: must be 'approved' or a whole number from 0 to 2147483647 (got 'latest')");
    expect((await get('/v/99999999999')).status).toBe(400);
  });

  it('quotes no more than the start of a long value', async () => {
    const { status, body } = await get(`/s/${'x'.repeat(5000)}`);
    expect(status).toBe(400);
    expect(body.error?.message).toBe(`path parameter id: a study id is at most 63 characters (got '${'x'.repeat(40)}…')`);
    expect((await get('/s/Upper')).body.error?.message).toBe("path parameter id: study ids are lower-case letters, digits and dashes (got 'Upper')");
  });

  it('names the query parameter that fails, with its reason and value; absent ones take their defaults', async () => {
    expect(await get('/q')).toEqual({ status: 200, body: { limit: 5 } });
    expect(await get('/q?limit=10&tag=abc&other=ignored')).toEqual({ status: 200, body: { limit: 10, tag: 'abc' } });
    const tooMany = await get('/q?limit=11');
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error?.message).toMatch(/^query parameter limit: .+ \(got '11'\)$/);
    expect((await get('/q?limit=2&tag=long')).body.error?.message).toMatch(/^query parameter tag: .+ \(got 'long'\)$/);
  });
});
