import { Hono } from 'hono';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { respond } from '../../shared/chat';
import type { ChatAskAccepted, ChatClientToServerEvents, ChatDelta, ChatDone, ChatServerToClientEvents } from '../../shared/protocol/chat';
import type { Ack } from '../../shared/protocol/events';
import type { Database } from '../db/client';
import { chatMessages, chatUsage, users } from '../db/schema';
import { errorHandler } from '../http/errors';
import type { AppEnv } from '../http/principal';
import { testDatabaseTargets } from '../testing/databases';
import { loadKnowledgeBase } from './articleSources';
import type { ChatConfig } from './config';
import { startFakeLlm, type FakeLlm } from './fakeLlm';
import { chatRoutes } from './routes';
import { attachChat } from './socket';

const [pglite] = testDatabaseTargets();
const kb = loadKnowledgeBase();
type Client = ClientSocket<ChatServerToClientEvents, ChatClientToServerEvents>;

/** A patient's Socket.IO client sends `auth: { patient }`; the stub identify() believes it, as the real one believes a session cookie. */
const identify = async (h: { auth: Record<string, unknown> }) => (typeof h.auth.patient === 'string' ? { userId: h.auth.patient } : null);

describe('the /chat namespace', () => {
  let database: Database;
  let llm: FakeLlm;
  let http: HttpServer;
  let io: Server;
  let url: string;
  let now = Date.parse('2026-03-01T21:30:00Z');
  const clients: Client[] = [];

  beforeAll(async () => {
    database = await pglite.open();
    llm = await startFakeLlm();
  });
  afterAll(async () => {
    await llm.close();
    await pglite.dispose(database);
  });
  beforeEach(async () => {
    await pglite.reset(database);
    await database.db.insert(users).values([
      { id: 'pat-1', email: 'ann@example.org', passwordHash: 'x', role: 'patient' },
      { id: 'pat-2', email: 'bob@example.org', passwordHash: 'x', role: 'patient' },
    ]);
    now = Date.parse('2026-03-01T21:30:00Z');
  });
  afterEach(async () => {
    clients.splice(0).forEach((c) => c.disconnect());
    io?.close();
    http?.closeAllConnections();
  });

  async function start(config: ChatConfig = { dailyLimit: 50 }, more: Partial<Parameters<typeof attachChat>[1]> = {}) {
    http = createServer();
    io = new Server(http);
    attachChat(io, { db: database.db, identify, config, kb, clock: { now: () => now }, streamDelayMs: 0, ...more });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/chat`;
  }

  async function client(auth: Record<string, string> = {}): Promise<Client> {
    const c: Client = connect(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth });
    clients.push(c);
    await new Promise<void>((resolve, reject) => {
      c.once('connect', resolve);
      c.once('connect_error', reject);
    });
    return c;
  }

  /** Asks, and collects the answer's deltas and its end (listening before asking, as the page does). */
  async function ask(c: Client, message: string, conversationId?: string) {
    const deltas: ChatDelta[] = [];
    const dones: ChatDone[] = [];
    c.on('chat:delta', (d) => deltas.push(d));
    c.on('chat:done', (d) => dones.push(d));
    const ack = (await c.emitWithAck('chat:ask', conversationId ? { message, conversationId } : { message })) as Ack<ChatAskAccepted>;
    if (!ack.ok) {
      c.off('chat:delta');
      c.off('chat:done');
      return { ack, deltas, done: undefined };
    }
    await expect.poll(() => dones.length, { timeout: 5_000 }).toBe(1);
    c.off('chat:delta');
    c.off('chat:done');
    expect(dones[0].askId).toBe(ack.data.askId);
    return { ack, deltas: deltas.filter((d) => d.askId === ack.data.askId), done: dones[0] };
  }

  it('streams an anonymous patient\'s answer in chunks, then the whole reply with its citations; stores nothing', async () => {
    await start();
    const c = await client();
    const { ack, deltas, done } = await ask(c, 'What is the difference between HDL and LDL cholesterol?');
    expect(ack).toMatchObject({ ok: true, data: { conversationId: null } });
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.map((d) => d.text).join('')).toBe(done!.reply.text);
    expect(done).toMatchObject({ emergency: false, source: 'retrieval', conversationId: null, reply: { kind: 'answer', citations: [{ slug: 'cholesterol' }] } });
    const rows = await database.db.select().from(chatUsage);
    expect(rows).toEqual([{ key: 'address:127.0.0.1', day: '2026-03-01', count: 1 }]);
  });

  it('streams a language model\'s answer token by token through the socket, citations kept', async () => {
    // Generous time-outs: this test is about streaming, not timing, and CI machines are slow.
    await start({ dailyLimit: 50, llm: { baseUrl: llm.baseUrl, model: 'm', timeoutMs: 15_000, firstTokenTimeoutMs: 10_000 } });
    llm.behave({ kind: 'stream', chunks: ['LDL carries ', 'cholesterol into ', 'artery walls.'], delayMs: 5 });
    const { deltas, done } = await ask(await client(), 'What is LDL cholesterol?');
    expect(deltas.map((d) => d.text)).toEqual(['LDL carries ', 'cholesterol into ', 'artery walls.']);
    expect(done).toMatchObject({ source: 'llm', reply: { kind: 'answer', generated: { body: 'LDL carries cholesterol into artery walls.' }, citations: [{ slug: 'cholesterol' }] } });

    llm.behave({ kind: 'status', status: 503 });
    const fallback = await ask(clients[0], 'What is LDL cholesterol?');
    expect(fallback.done).toMatchObject({ source: 'retrieval', reply: respond(kb, 'What is LDL cholesterol?') });
  });

  it('refuses a bad payload and an over-long message with a clear reason, but answers an over-long emergency', async () => {
    await start();
    const c = await client();
    expect((await ask(c, '   ')).ack).toMatchObject({ ok: false, error: { code: 'bad_request', message: expect.stringMatching(/type a question first/) } });
    expect(((await c.emitWithAck('chat:ask', { msg: 'hi' } as never)) as Ack<unknown>).ok).toBe(false);
    const long = await ask(c, `What is cholesterol? ${'please '.repeat(100)}`);
    expect(long.ack).toMatchObject({ ok: false, error: { code: 'payload_too_large', message: expect.stringMatching(/the limit is 500/) } });
    const urgent = await ask(c, `${'I feel unwell. '.repeat(40)} I have crushing chest pain and I am sweating`);
    expect(urgent.done).toMatchObject({ emergency: true, reply: { kind: 'emergency', emergency: 'heart' } });
    expect(urgent.deltas).toEqual([]);
  });

  it('counts messages per address and per patient each UTC day, refuses past the limit saying when it resets, and never refuses an emergency', async () => {
    await start({ dailyLimit: 2 });
    const anon = await client();
    expect((await ask(anon, 'What is LDL?')).ack.ok).toBe(true);
    expect((await ask(anon, 'What is HDL?')).ack.ok).toBe(true);
    const refused = await ask(anon, 'What is a statin?');
    expect(refused.ack).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    if (refused.ack.ok) throw new Error('expected a refusal');
    expect(refused.ack.error.message).toBe(
      "You have reached today's limit of 2 messages. It resets at midnight UTC (2026-03-02 00:00 UTC), in 2 h 30 min. In an emergency, call 112, 999 or 911: urgent messages are always answered.",
    );
    // Another connection from the same address shares the count.
    expect((await ask(await client(), 'What is HDL?')).ack).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect((await ask(anon, 'I want to kill myself')).done).toMatchObject({ emergency: true, reply: { emergency: 'suicide' } });
    // A signed-in patient has their own allowance, whatever the address.
    expect((await ask(await client({ patient: 'pat-1' }), 'What is LDL?')).ack.ok).toBe(true);
    // The next UTC day starts afresh.
    now = Date.parse('2026-03-02T00:00:01Z');
    expect((await ask(anon, 'What is a statin?')).ack.ok).toBe(true);
  });

  it('holds a burst to the per-minute budget, per address and per patient, and still answers an emergency', async () => {
    const spent: string[][] = [];
    await start(undefined, {
      burstLimit: async (keys) => {
        spent.push(keys);
        return spent.length > 2 ? { ok: false, retryAfterSeconds: 42 } : { ok: true };
      },
    });
    const anon = await client();
    expect((await ask(anon, 'What is LDL?')).ack.ok).toBe(true);
    expect((await ask(await client({ patient: 'pat-1' }), 'What is HDL?')).ack.ok).toBe(true);
    const refused = await ask(anon, 'What is a statin?');
    expect(refused.ack).toMatchObject({ ok: false, error: { code: 'rate_limited', message: expect.stringMatching(/wait 42 s/) } });
    expect(spent[0]).toEqual([expect.stringMatching(/^address:/)]);
    expect(spent[1]).toEqual(['account:pat-1', expect.stringMatching(/^address:/)]);
    expect((await ask(anon, 'I want to kill myself')).done).toMatchObject({ emergency: true });
    expect(spent).toHaveLength(3);
  });

  it('refuses a second question while the first is being answered', async () => {
    await start({ dailyLimit: 50, llm: { baseUrl: llm.baseUrl, model: 'm', timeoutMs: 1_000, firstTokenTimeoutMs: 800 } });
    llm.behave({ kind: 'stall', afterChunks: ['LDL '] });
    const c = await client();
    const first = ask(c, 'What is LDL cholesterol?');
    await expect.poll(() => llm.requests.length).toBeGreaterThan(0);
    expect(await c.emitWithAck('chat:ask', { message: 'What is HDL?' })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect((await first).done).toMatchObject({ source: 'retrieval' });
  });

  describe('a signed-in patient', () => {
    let api: Hono<AppEnv>;
    beforeEach(() => {
      api = new Hono<AppEnv>();
      api.onError(errorHandler(pino({ level: 'silent' })));
      api.use('*', async (c, next) => {
        const who = c.req.header('x-test-patient');
        const principal = who === 'admin' ? { kind: 'admin', userId: 'a', email: 'a@x', sessionId: null } : who ? { kind: 'patient', userId: who, email: `${who}@x`, sessionId: null } : null;
        c.set('principal', principal as never);
        await next();
      });
      api.route('/api/chat', chatRoutes({ db: database.db }));
    });
    const get = (path: string, who?: string, method = 'GET') => api.request(path, { method, headers: who ? { 'x-test-patient': who } : {} });

    it('has each question and answer stored, lists and reopens them, continues one, and deletes the history', async () => {
      await start();
      const c = await client({ patient: 'pat-1' });
      const first = await ask(c, 'What is LDL cholesterol?');
      const conversationId = first.done!.conversationId!;
      expect(conversationId).toEqual(expect.any(String));
      now += 60_000;
      const second = await ask(c, 'And what about HDL?', conversationId);
      expect(second.done!.conversationId).toBe(conversationId);
      now += 60_000;
      await ask(c, 'What is hepatitis C?');

      const list = await (await get('/api/chat/conversations', 'pat-1')).json();
      expect(list.conversations.map((x: { title: string }) => x.title)).toEqual(['What is hepatitis C?', 'What is LDL cholesterol?']);
      const detail = await (await get(`/api/chat/conversations/${conversationId}`, 'pat-1')).json();
      expect(detail.messages.map((m: { role: string }) => m.role)).toEqual(['patient', 'assistant', 'patient', 'assistant']);
      expect(detail.messages[0].text).toBe('What is LDL cholesterol?');
      expect(detail.messages[1].text).toBe(first.done!.reply.text);
      expect(detail.messages[1].citations).toEqual([{ slug: 'cholesterol', title: 'Cholesterol: HDL, LDL and triglycerides' }]);

      // Another patient sees none of it, and cannot continue it.
      expect((await (await get('/api/chat/conversations', 'pat-2')).json()).conversations).toEqual([]);
      expect((await get(`/api/chat/conversations/${conversationId}`, 'pat-2')).status).toBe(404);
      const other = await ask(await client({ patient: 'pat-2' }), 'What is LDL?', conversationId);
      expect(other.done!.conversationId).not.toBe(conversationId);
      expect((await (await get(`/api/chat/conversations/${conversationId}`, 'pat-1')).json()).messages).toHaveLength(4);
      expect((await (await get('/api/chat/conversations', 'pat-2')).json()).conversations).toHaveLength(1);
      // Only patients have stored chats.
      expect((await get('/api/chat/conversations')).status).toBe(401);
      expect((await get('/api/chat/conversations', 'admin')).status).toBe(403);

      const deleted = await get('/api/chat/history', 'pat-1', 'DELETE');
      expect(await deleted.json()).toEqual({ deletedConversations: 2 });
      expect((await (await get('/api/chat/conversations', 'pat-1')).json()).conversations).toEqual([]);
      expect((await get(`/api/chat/conversations/${conversationId}`, 'pat-1')).status).toBe(404);
      // The other patient's chat is untouched.
      expect((await database.db.select().from(chatMessages)).map((m) => m.text)).toEqual(['What is LDL?', respond(kb, 'What is LDL?').text]);
    });
  });
});
