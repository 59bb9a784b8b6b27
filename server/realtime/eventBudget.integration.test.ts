import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Ack } from '../../shared/protocol/events';
import { createUser } from '../auth/accounts';
import type { Database } from '../db/client';
import { sites } from '../db/schema';
import { createStudy, enrolSite } from '../studies/service';
import { testDatabaseTargets } from '../testing/databases';
import { connectSocket, emitAck, startServer, type ClientSocket, type RunningServer } from '../testing/harness';
import { defaultEventBudget } from './eventBudget';

const { perConnection, perAccount, costs, disconnectAfter } = defaultEventBudget;
const JOIN = costs['hospital:join'];
const PROGRESS = { studyId: 'study', state: 'training' as const, round: 1, epoch: 1, epochs: 3 };

type Outcome = 'ok' | 'rate_limited' | 'other' | 'unanswered';
const outcomeOf = (r: PromiseSettledResult<Ack<unknown>>): Outcome =>
  r.status === 'rejected' ? 'unanswered' : r.value.ok ? 'ok' : r.value.error.code === 'rate_limited' ? 'rate_limited' : 'other';
const tally = (results: PromiseSettledResult<Ack<unknown>>[]) => {
  const t: Record<Outcome, number> = { ok: 0, rate_limited: 0, other: 0, unanswered: 0 };
  for (const r of results) t[outcomeOf(r)]++;
  return t;
};

/** `n` progress reports at once, as a flooding client sends them: no waiting for acks. */
const flood = (s: ClientSocket, n: number) => Promise.allSettled(Array.from({ length: n }, () => emitAck(s, 'hospital:progress', PROGRESS)));

describe.each(testDatabaseTargets())('the event budget of Socket.IO connections ($name)', (target) => {
  let database: Database;
  let server: RunningServer;
  let logged: Record<string, unknown>[] = [];
  const sockets: ClientSocket[] = [];
  // Frozen unless a test moves it: no bucket refills while a flood is in flight, so counts are exact.
  let now = Date.parse('2030-01-01T00:00:00Z');
  const clock = { now: () => now };

  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(() => target.dispose(database));
  beforeEach(async () => {
    await target.reset(database);
    await database.db.insert(sites).values([
      { id: 'flooder', name: 'Flooding Hospital' },
      { id: 'bystander', name: 'Bystander Hospital' },
    ]);
    await createStudy(database.db, { id: 'study', name: 'Study', templateId: 'heart-risk' });
    await enrolSite(database.db, 'study', 'flooder');
    await enrolSite(database.db, 'study', 'bystander');
    logged = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n')) if (line) logged.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    server = await startServer(database, { clock, logger: pino({ level: 'warn' }, sink) });
  });
  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.disconnect());
    await server.stop();
  });

  const hospital = async (siteId: string, userId?: string) => {
    const s = await connectSocket(server.url, { token: await server.consilium.tokens.hospitalLink(siteId, userId) });
    sockets.push(s);
    return s;
  };
  const joined = async (siteId: string, userId?: string) => {
    const s = await hospital(siteId, userId);
    expect(await emitAck(s, 'hospital:join', { studyId: 'study' })).toMatchObject({ ok: true });
    return s;
  };

  it('refuses progress past the connection budget with rate_limited and when to retry, then takes it again', async () => {
    const s = await joined('flooder');
    const left = perConnection.capacity - JOIN;
    const results = await flood(s, left + 50);
    expect(tally(results)).toEqual({ ok: left, rate_limited: 50, other: 0, unanswered: 0 });
    // The first `left` are taken, in order; the rest refused.
    expect(results.slice(0, left).every((r) => outcomeOf(r) === 'ok')).toBe(true);
    expect((results[left] as PromiseFulfilledResult<Ack<unknown>>).value).toEqual({
      ok: false,
      error: { code: 'rate_limited', message: 'too many events from this connection or account: try again in 1 s' },
    });
    expect(s.connected).toBe(true);
    // The bucket refills with the clock: a second later ten more reports are taken.
    now += 1_000;
    expect(tally(await flood(s, perConnection.refillPerSecond + 1))).toMatchObject({ ok: perConnection.refillPerSecond, rate_limited: 1 });
  });

  it('charges events sent without an ack, and events it does not know', async () => {
    const s = await joined('flooder');
    const left = perConnection.capacity - JOIN;
    const raw = s as unknown as { emit(e: string, p: unknown): void };
    for (let i = 0; i < left / 2; i++) raw.emit('hospital:progress', PROGRESS);
    for (let i = 0; i < left / 2; i++) raw.emit('no:such-event', {});
    expect(await emitAck(s, 'hospital:progress', PROGRESS)).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
  });

  it('shares one budget among all sockets of an account; other accounts are unaffected', async () => {
    const perSocket = perConnection.capacity - JOIN;
    const socketsToDrain = perAccount.capacity / perConnection.capacity;
    for (let i = 0; i < socketsToDrain; i++) expect(tally(await flood(await joined('flooder'), perSocket)).ok).toBe(perSocket);
    // A fresh socket of the same account: its own bucket is full, its account's is empty.
    const another = await hospital('flooder');
    expect(await emitAck(another, 'hospital:join', { studyId: 'study' })).toMatchObject({ ok: false, error: { code: 'rate_limited', message: /try again in 1 s/ } });
    another.disconnect();
    const reconnected = await hospital('flooder');
    expect(await emitAck(reconnected, 'hospital:progress', PROGRESS)).toMatchObject({ ok: false, error: { code: 'rate_limited' } });

    // Another hospital, and another staff member of the same hospital, are other accounts.
    const bystander = await joined('bystander');
    expect(tally(await flood(bystander, perSocket))).toMatchObject({ ok: perSocket, rate_limited: 0 });
    const staff = await createUser(database.db, { email: 'colleague@flooder.test', password: 'correct horse battery', role: 'staff', siteId: 'flooder' });
    const colleague = await joined('flooder', staff.id);
    expect(tally(await flood(colleague, 10))).toMatchObject({ ok: 10, rate_limited: 0 });
  });

  it('disconnects a socket that keeps flooding, and logs its account, never its token', async () => {
    const s = await joined('flooder');
    const token = await server.consilium.tokens.hospitalLink('flooder');
    const bystander = await joined('bystander');
    const gone = new Promise<string>((resolve) => s.once('disconnect', resolve));
    // The server's end of the flooder's WebSocket (ws), to see that it stops reading at once.
    const serverSide = [...server.consilium.io!.of('/').sockets.values()].find((x) => x.id === s.id)!;
    const ws = (serverSide.conn.transport as unknown as { socket: { isPaused: boolean; readyState: number } }).socket;
    const left = perConnection.capacity - JOIN;
    expect(tally(await flood(s, left)).ok).toBe(left);
    expect(ws.isPaused).toBe(false);
    const results = await flood(s, disconnectAfter.refusals + 500);
    expect(await gone).toBe('io server disconnect');
    // Not parsing, for up to ws's 30 s close timeout, whatever the client still queued or sends.
    expect(ws.isPaused || ws.readyState === 3).toBe(true);
    // The refusal that crosses the line is still answered; nothing after it is read.
    expect(tally(results)).toEqual({ ok: 0, rate_limited: disconnectAfter.refusals, other: 0, unanswered: 500 });

    const warnings = logged.filter((l) => l.msg === 'disconnected a socket that kept sending events past its budget');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, account: 'hospital:flooder:site-link', event: 'hospital:progress' });
    expect(JSON.stringify(logged)).not.toContain(token);
    // One warning per disconnected socket, not one per refused event.
    expect(logged.filter((l) => l.level === 40)).toHaveLength(1);

    // The bystander's socket carries on.
    expect(bystander.connected).toBe(true);
    expect(await emitAck(bystander, 'hospital:progress', PROGRESS)).toEqual({ ok: true, data: null });
  });

  it('an honest tab never meets the budget: join, two progress reports a second, a re-join on every reconnect', async () => {
    let s = await joined('flooder');
    for (let second = 0; second < 120; second++) {
      now += 500;
      expect(await emitAck(s, 'hospital:progress', PROGRESS)).toEqual({ ok: true, data: null });
      now += 500;
      expect(await emitAck(s, 'hospital:progress', PROGRESS)).toEqual({ ok: true, data: null });
      if (second % 10 === 9) {
        s.disconnect();
        s = await joined('flooder');
      }
    }
  });
});
