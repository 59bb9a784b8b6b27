import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../db/client';
import { sites } from '../db/schema';
import { createStudy, enrolSite } from '../studies/service';
import { testDatabaseTargets } from '../testing/databases';
import { connectSocket, emitAck, startServer, type ClientSocket, type RunningServer } from '../testing/harness';

const [pglite] = testDatabaseTargets();

describe('the Socket.IO control plane refuses what it should', () => {
  let database: Database;
  let server: RunningServer;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    database = await pglite.open();
  });
  afterAll(() => pglite.dispose(database));
  beforeEach(async () => {
    await pglite.reset(database);
    await database.db.insert(sites).values([
      { id: 'enrolled', name: 'Enrolled Hospital' },
      { id: 'outsider', name: 'Outsider Hospital' },
    ]);
    await createStudy(database.db, { id: 'study', name: 'Study', templateId: 'heart-risk' });
    await enrolSite(database.db, 'study', 'enrolled');
    server = await startServer(database);
  });
  afterEach(async () => {
    sockets.splice(0).forEach((s) => s.disconnect());
    await server.stop();
  });

  const hospital = async (siteId: string) => {
    const s = await connectSocket(server.url, { token: await server.consilium.tokens.hospitalLink(siteId) });
    sockets.push(s);
    return s;
  };

  it('refuses a connection without a valid token', async () => {
    await expect(connectSocket(server.url, {})).rejects.toThrow(/unauthenticated/);
    await expect(connectSocket(server.url, { token: 'not.a.token' })).rejects.toThrow(/unauthenticated/);
    const forged = (await server.consilium.tokens.hospitalLink('enrolled')).slice(0, -4) + 'AAAA';
    await expect(connectSocket(server.url, { token: forged })).rejects.toThrow(/unauthenticated/);
  });

  it('answers every refusal through the ack with a code and a reason', async () => {
    const s = await hospital('enrolled');
    expect(await emitAck(s, 'hospital:progress', { studyId: 'study', state: 'training' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden', message: 'join the study first' },
    });
    expect(await emitAck(s, 'admin:watch', { studyId: 'study' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const bad = await emitAck(s, 'hospital:join', { studyId: 'Not A Study Id!' } as never);
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect((await emitAck(s, 'hospital:join', { studyId: 'study' })).ok).toBe(true);
    const report = { studyId: 'study', version: 99, loss: 0.5, accuracy: 0.8, numSamples: 10, backend: 'cpu' as const };
    expect(await emitAck(s, 'hospital:evaluation', report)).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('lets a hospital join only the studies its site is enrolled in', async () => {
    const s = await hospital('outsider');
    expect(await emitAck(s, 'hospital:join', { studyId: 'study' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });
});
