import pino, { type Logger } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Ack } from '../../shared/protocol/events';
import type { LogBacklog, LogLine, LogLineEvent } from '../../shared/protocol/logView';
import type { Database } from '../db/client';
import { sites } from '../db/schema';
import { createStudy, enrolSite } from '../studies/service';
import { testDatabaseTargets } from '../testing/databases';
import { connectSocket, emitAck, signIn, startServer, type ClientSocket, type RunningServer } from '../testing/harness';
import { LogHub } from './logHub';
import { loggerOptions, REDACTED } from './logRedaction';

/** Every `log:line` a socket receives, by subscription. */
function collect(socket: ClientSocket) {
  const got: LogLineEvent[] = [];
  socket.on('log:line', (e) => got.push(e));
  const of = (subscription: string) => got.filter((e) => e.subscription === subscription).map((e) => e.line);
  return {
    of,
    /** Waits until the subscription has received a line with this message. */
    until: (subscription: string, msg: string) => vi.waitFor(() => expect(of(subscription).map((l) => l.msg)).toContain(msg), { timeout: 10_000, interval: 20 }),
  };
}

const backlogOf = (ack: Ack<unknown>) => {
  expect(ack).toMatchObject({ ok: true });
  return (ack as { ok: true; data: LogBacklog }).data;
};
const msgs = (lines: LogLine[]) => lines.map((l) => l.msg);

describe.each(testDatabaseTargets())('the admins’ live server log over Socket.IO ($name)', (target) => {
  let database: Database;
  let server: RunningServer;
  let hub: LogHub;
  let log: Logger;
  let participantOf: Record<string, string>;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(() => target.dispose(database));
  beforeEach(async () => {
    await target.reset(database);
    await database.db.insert(sites).values([
      { id: 'north', name: 'North Hospital' },
      { id: 'south', name: 'South Hospital' },
    ]);
    await createStudy(database.db, { id: 'heart', name: 'Heart', templateId: 'heart-risk' });
    await createStudy(database.db, { id: 'other', name: 'Other', templateId: 'heart-risk' });
    participantOf = { north: await enrolSite(database.db, 'heart', 'north'), south: await enrolSite(database.db, 'heart', 'south') };
    await enrolSite(database.db, 'other', 'north');
    // The server's logger writes into the hub, as server/main.ts wires it (stdout left out).
    hub = new LogHub();
    log = pino(loggerOptions('debug'), hub);
    server = await startServer(database, { logger: log, logHub: hub });
  });
  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.disconnect());
    await server.stop();
  });

  const socketOf = async (auth: { token?: string; cookie?: string }) => {
    const s = await connectSocket(server.url, auth);
    sockets.push(s);
    return s;
  };
  const admin = async () => socketOf({ cookie: (await signIn(server)).cookie });
  const hospitalJoins = async (siteId: string, studyId = 'heart') => {
    const s = await socketOf({ token: await server.consilium.tokens.hospitalLink(siteId) });
    expect(await emitAck(s, 'hospital:join', { studyId })).toMatchObject({ ok: true });
  };

  it('sends a study admin the study’s kept lines first, then its new lines live, and no other study’s', async () => {
    await hospitalJoins('north');
    await hospitalJoins('north', 'other');
    log.info({ studyId: 'heart', round: 1, version: 1, contributors: 2 }, 'round aggregated');
    const s = await admin();
    const lines = collect(s);
    const backlog = backlogOf(await emitAck(s, 'admin:log:subscribe', { subscription: 'study', studyId: 'heart' }));
    expect(msgs(backlog.lines)).toEqual(['hospital joined', 'round aggregated']);
    expect(backlog.lines[0]).toMatchObject({ level: 'info', studyId: 'heart', siteId: 'north', fields: { site: 'North Hospital' } });
    expect(backlog.lines[1].fields).toEqual({ round: 1, version: 1, contributors: 2 });
    expect(backlog.keptMs).toBe(3_600_000);

    // A line the server logs from now on arrives as it is logged.
    await hospitalJoins('south');
    await lines.until('study', 'hospital joined');
    await hospitalJoins('north', 'other');
    log.warn({ studyId: 'heart', round: 2, reason: 'deadline' }, 'round abandoned');
    await lines.until('study', 'round abandoned');
    const live = lines.of('study');
    expect(msgs(live)).toEqual(['hospital joined', 'round abandoned']);
    expect(live[0]).toMatchObject({ studyId: 'heart', siteId: 'south' });
    expect(live[1].seq).toBeGreaterThan(live[0].seq);
    expect(live[0].seq).toBeGreaterThan(backlog.lines[1].seq);
  });

  it('filters by least severe level and by site on the server, naming a participant’s site', async () => {
    log.info({ studyId: 'heart', round: 1, participantId: participantOf.north }, 'update accepted');
    log.warn({ studyId: 'heart', round: 1, participantId: participantOf.south, code: 'norm_bound' }, 'update refused');
    log.warn({ studyId: 'heart', round: 1, participantId: participantOf.north, code: 'stale' }, 'update refused');
    const s = await admin();
    const lines = collect(s);
    const north = backlogOf(await emitAck(s, 'admin:log:subscribe', { subscription: 'north', studyId: 'heart', siteId: 'north' }));
    expect(north.lines.map((l) => [l.msg, l.siteId])).toEqual([
      ['update accepted', 'north'],
      ['update refused', 'north'],
    ]);
    const warnings = backlogOf(await emitAck(s, 'admin:log:subscribe', { subscription: 'warn', studyId: 'heart', minLevel: 'warn' }));
    expect(warnings.lines.map((l) => l.fields.code)).toEqual(['norm_bound', 'stale']);

    log.info({ studyId: 'heart', participantId: participantOf.south }, 'south info');
    log.warn({ studyId: 'heart', participantId: participantOf.south }, 'south warning');
    log.info({ studyId: 'heart', participantId: participantOf.north }, 'north info');
    await lines.until('north', 'north info');
    await lines.until('warn', 'south warning');
    expect(msgs(lines.of('north'))).toEqual(['north info']);
    expect(msgs(lines.of('warn'))).toEqual(['south warning']);
  });

  it('gives a platform admin the whole server’s log, lines of no study included, and stops when unsubscribed or gone', async () => {
    log.error({ err: new Error('disk full') }, 'unhandled error');
    await hospitalJoins('north', 'other');
    const s = await admin();
    const lines = collect(s);
    const backlog = backlogOf(await emitAck(s, 'admin:log:subscribe', { subscription: 'server', studyId: null }));
    expect(backlog.lines.map((l) => [l.msg, l.studyId])).toEqual([
      ['unhandled error', undefined],
      ['hospital joined', 'other'],
    ]);
    expect(backlog.lines[0].fields.err).toEqual({ type: 'Error', message: 'disk full' });
    backlogOf(await emitAck(s, 'admin:log:subscribe', { subscription: 'study', studyId: 'heart' }));

    log.info({ signal: 'SIGTERM' }, 'shutting down');
    await lines.until('server', 'shutting down');
    expect(await emitAck(s, 'admin:log:unsubscribe', { subscription: 'server' })).toEqual({ ok: true, data: null });
    log.info({ studyId: 'heart' }, 'after unsubscribing');
    await lines.until('study', 'after unsubscribing');
    // A round trip after the study's line: a line for the ended subscription would have come before it.
    expect(await emitAck(s, 'admin:log:unsubscribe', { subscription: 'no-such' })).toEqual({ ok: true, data: null });
    expect(msgs(lines.of('server'))).toEqual(['shutting down']);
    expect(msgs(lines.of('study'))).toEqual(['after unsubscribing']);
    expect(hub.subscribers).toBe(1);
    // A socket that goes away takes its subscriptions with it.
    s.disconnect();
    await vi.waitFor(() => expect(hub.subscribers).toBe(0), { timeout: 10_000, interval: 20 });
  });

  it('keeps secrets and patient text out of what it sends', async () => {
    log.warn({ studyId: 'heart', password: 'hunter2', headers: { cookie: 'consilium_session=abc' }, question: 'chest pain' }, 'careless line');
    const s = await admin();
    const [line] = backlogOf(await emitAck(s, 'admin:log:subscribe', { subscription: 'study', studyId: 'heart' })).lines;
    expect(line.fields).toEqual({ password: REDACTED, headers: { cookie: REDACTED }, question: REDACTED });
  });

  it('refuses hospital staff, a hospital’s sign-in link and patients, and says why; an unknown study is not found', async () => {
    const staff = await socketOf({ cookie: (await signIn(server, { role: 'staff', siteId: 'north' })).cookie });
    const siteAdmin = await socketOf({ cookie: (await signIn(server, { role: 'site_admin', siteId: 'north' })).cookie });
    const link = await socketOf({ token: await server.consilium.tokens.hospitalLink('north') });
    const patient = await socketOf({ cookie: (await signIn(server, { role: 'patient' })).cookie });
    for (const s of [staff, siteAdmin, link, patient]) {
      const got = collect(s);
      for (const studyId of ['heart', null])
        expect(await emitAck(s, 'admin:log:subscribe', { subscription: 'x', studyId })).toEqual({ ok: false, error: { code: 'forbidden', message: 'platform admins only' } });
      log.info({ studyId: 'heart' }, 'not for hospitals');
      expect(await emitAck(s, 'admin:log:unsubscribe', { subscription: 'x' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      expect(got.of('x')).toEqual([]);
    }
    const s = await admin();
    expect(await emitAck(s, 'admin:log:subscribe', { subscription: 'x', studyId: 'no-such-study' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await emitAck(s, 'admin:log:subscribe', { subscription: 'x', studyId: 'heart', minLevel: 'loud' } as never)).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  });
});
