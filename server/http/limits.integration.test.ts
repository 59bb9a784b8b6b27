import { serve } from '@hono/node-server';
import { desc } from 'drizzle-orm';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../shared/protocol/errors';
import { parameterCount, templates } from '../../shared/tasks';
import { createApp, type ConsiliumApp } from '../app';
import type { Database } from '../db/client';
import { auditEvents } from '../db/schema';
import { testDatabaseTargets } from '../testing/databases';

const pglite = testDatabaseTargets()[0];
// The same bound as createApp's: the largest template's float32 weights and room for the header.
const maxUpdateBytes = Math.max(...Object.values(templates).map((t) => parameterCount(t.model))) * 4 + 256 * 1024;

type ErrorJson = { error: { code: string; message: string } };

/** The whole server (limits as wired in createApp) on a real socket, so addresses and Content-Length are real. */
async function serveApp(database: Database, options: { trustProxyHops?: number } = {}) {
  const consilium = await createApp({ database, ...options });
  const server = await new Promise<HttpServer>((resolve) => {
    const s = serve({ fetch: consilium.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as HttpServer));
  });
  await consilium.attach(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    consilium,
    async stop() {
      server.closeAllConnections();
      await consilium.close();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('request limits as the server applies them', () => {
  let database: Database;
  let running: Awaited<ReturnType<typeof serveApp>>;

  beforeAll(async () => {
    database = await pglite.open();
  });
  afterAll(async () => {
    await pglite.dispose(database);
  });

  /** A fresh server per test: counters live in the process, one set per createApp. */
  async function fresh(options: { trustProxyHops?: number } = {}) {
    await running?.stop();
    running = await serveApp(database, options);
    return running;
  }
  afterAll(async () => {
    await running?.stop();
  });

  const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('stops brute-forcing one account at the 6th sign-in, with 429 and Retry-After', async () => {
    const { url } = await fresh();
    for (let i = 1; i <= 5; i++) {
      const res = await fetch(`${url}/api/auth/login`, json({ email: 'admin@test.local', password: `guess-${i}` }));
      expect(res.status).toBe(401);
    }
    const res = await fetch(`${url}/api/auth/login`, json({ email: 'admin@test.local', password: 'guess-6' }));
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(800);
    expect(((await res.json()) as ErrorJson).error.code).toBe(ErrorCode.RateLimited);
    // The refusal is an answer like any other: it carries the security headers too.
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    // Another account from the same address still gets its own attempts.
    expect((await fetch(`${url}/api/auth/login`, json({ email: 'other@test.local', password: 'x' }))).status).toBe(401);
  });

  it('records the X-Forwarded-For address in the audit log only behind TRUST_PROXY proxies, as the rate limits do', async () => {
    const failedFrom = async (forwardedFor: string) => {
      const res = await fetch(`${url}/api/auth/login`, { ...json({ email: 'nobody@test.local', password: 'x' }), headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor } });
      expect(res.status).toBe(401);
      const [row] = await database.db.select({ address: auditEvents.address }).from(auditEvents).orderBy(desc(auditEvents.id)).limit(1);
      return row.address;
    };
    let { url } = await fresh();
    expect(await failedFrom('203.0.113.9')).toBe('127.0.0.1');
    ({ url } = await fresh({ trustProxyHops: 1 }));
    // The entry the proxy appended, not the one the client wrote before it.
    expect(await failedFrom('198.51.100.7, 203.0.113.9')).toBe('203.0.113.9');
  });

  it('limits invite codes, uploads and the chatbot by their budgets', async () => {
    const { url } = await fresh();
    const until429 = async (path: string, init: () => RequestInit, budget: number) => {
      for (let i = 1; i <= budget; i++) expect((await fetch(`${url}${path}`, init())).status, `${path} #${i}`).not.toBe(429);
      const res = await fetch(`${url}${path}`, init());
      expect(res.status, `${path} #${budget + 1}`).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    };
    await until429('/api/auth/invites/redeem', () => json({ code: 'not-a-code', email: 'x@y.org', password: 'long enough password' }), 10);
    const upload = () => ({ method: 'POST', headers: { 'content-type': 'application/octet-stream', 'idempotency-key': 'key-12345678' }, body: new Uint8Array(16) });
    await until429('/api/studies/some-study/rounds/1/updates', upload, 30);
    // Chat history is read and deleted over HTTP (the questions go over Socket.IO): every method counts.
    await until429('/api/chat/conversations', () => ({ method: 'GET' }), 30);
    expect((await fetch(`${url}/api/chat/history`, { method: 'DELETE' })).status).toBe(429);
    // Sign-in was not touched by any of that: each budget is its own.
    expect((await fetch(`${url}/api/auth/login`, json({ email: 'a@b.org', password: 'x' }))).status).toBe(401);
  });

  it('refuses an API body over 64 KiB with 413 and a JSON error', async () => {
    const { url } = await fresh();
    const res = await fetch(`${url}/api/auth/login`, json({ email: 'a@b.org', password: 'x'.repeat(64 * 1024) }));
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorJson).error).toEqual({ code: ErrorCode.PayloadTooLarge, message: 'a request body may not exceed 65536 bytes' });
  });

  it('lets an update upload past 64 KiB, up to the model-sized limit of its own', async () => {
    const { url } = await fresh();
    const post = (n: number) =>
      fetch(`${url}/api/studies/some-study/rounds/1/updates`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'idempotency-key': 'key-12345678' },
        body: new Uint8Array(n),
      });
    // Past the body limits, the route itself answers: no hospital token.
    const big = await post(256 * 1024);
    expect(big.status).toBe(401);
    const tooBig = await post(maxUpdateBytes + 1);
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as ErrorJson).error.message).toBe(`an update may not exceed ${maxUpdateBytes} bytes`);
  });

  it('lets a masked input (secure aggregation) past 64 KiB too: the route sizes it to the model', async () => {
    const { url } = await fresh();
    const res = await fetch(`${url}/api/studies/some-study/rounds/1/masked`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(256 * 1024),
    });
    // Past the default body limit, the route itself answers: no hospital token.
    expect(res.status).toBe(401);
  });

  it('keeps Socket.IO messages to 64 KiB: control messages only, weights go over HTTP', async () => {
    const { url } = await fresh();
    const open = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
    expect(open.status).toBe(200);
    const sid = (JSON.parse((await open.text()).slice(1)) as { sid: string }).sid;
    const send = (packet: string) =>
      fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: packet });
    // An engine.io noop packet ('6') with padding: harmless, and judged by its size alone.
    expect((await send(`6${'a'.repeat(60 * 1024)}`)).status).toBe(200);
    expect((await send(`6${'a'.repeat(65 * 1024)}`)).status).toBe(413);
  });
});
