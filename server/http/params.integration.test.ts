import { asc, count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../shared/protocol/errors';
import { demoHospitals } from '../../shared/synthetic';
import type { Database } from '../db/client';
import { refusedUpdates, rounds, sites, updates } from '../db/schema';
import { createStudy, enrolSite } from '../studies/service';
import { testDatabaseTargets } from '../testing/databases';
import { signIn, startServer, type RunningServer } from '../testing/harness';

const STUDY = 'param-study';
const SITE = demoHospitals[0];

type Who = 'anonymous' | 'admin' | 'hospital' | 'patient';
type ErrorJson = { error: { code: string; message: string } };

/** Numbers a URL may carry that no round, version or id column can hold, or that are no whole number. */
const BAD_NUMBERS = ['99999999999', '2147483648', '-1', '1.5', 'abc', '1e3', '0x10', '%201'];
const LONG_ID = 'a'.repeat(200);
const BAD_STUDY_IDS = [LONG_ID, 'Not_A_Study', '-leading-dash'];

interface Case {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The URL with the bad value in place of `{}`. */
  path: string;
  who: Who;
  /** The parameter the answer must name, and where it sits. */
  param: string;
  where: 'path' | 'query';
  values: string[];
  body?: unknown;
}

const cases: Case[] = [
  { method: 'GET', path: '/api/studies/{}', who: 'admin', param: 'id', where: 'path', values: BAD_STUDY_IDS },
  { method: 'GET', path: '/api/studies/{}/dashboard', who: 'admin', param: 'id', where: 'path', values: BAD_STUDY_IDS },
  { method: 'GET', path: `/api/studies/${STUDY}/models/{}`, who: 'hospital', param: 'version', where: 'path', values: BAD_NUMBERS },
  { method: 'GET', path: `/api/studies/{}/models/0`, who: 'hospital', param: 'id', where: 'path', values: BAD_STUDY_IDS },
  { method: 'GET', path: '/api/studies/{}/versions', who: 'admin', param: 'id', where: 'path', values: BAD_STUDY_IDS },
  { method: 'GET', path: `/api/studies/${STUDY}/versions/{}/evaluation`, who: 'admin', param: 'version', where: 'path', values: [...BAD_NUMBERS, 'approved'] },
  { method: 'GET', path: '/api/studies/{}/approvals', who: 'admin', param: 'id', where: 'path', values: BAD_STUDY_IDS },
  { method: 'POST', path: `/api/studies/${STUDY}/versions/{}/approve`, who: 'admin', param: 'version', where: 'path', values: [...BAD_NUMBERS, 'approved'], body: { note: 'bad' } },
  { method: 'GET', path: `/api/studies/${STUDY}/versions/{}/model.json`, who: 'admin', param: 'version', where: 'path', values: [...BAD_NUMBERS, 'latest'] },
  { method: 'GET', path: `/api/studies/${STUDY}/versions/{}/weights.bin`, who: 'anonymous', param: 'version', where: 'path', values: [...BAD_NUMBERS, 'Approved'] },
  { method: 'GET', path: '/api/studies/{}/versions/approved/model.json', who: 'anonymous', param: 'id', where: 'path', values: BAD_STUDY_IDS },
  { method: 'GET', path: '/api/public/studies/{}/risk-model', who: 'anonymous', param: 'id', where: 'path', values: BAD_STUDY_IDS },
  { method: 'POST', path: '/api/studies/{}/participants', who: 'admin', param: 'id', where: 'path', values: BAD_STUDY_IDS, body: { siteId: SITE.id } },
  { method: 'PATCH', path: '/api/studies/{}/config', who: 'admin', param: 'id', where: 'path', values: BAD_STUDY_IDS, body: {} },
  { method: 'GET', path: '/api/studies/{}/config-changes', who: 'admin', param: 'id', where: 'path', values: BAD_STUDY_IDS },
  { method: 'POST', path: '/api/studies/{}/pause', who: 'admin', param: 'id', where: 'path', values: BAD_STUDY_IDS },
  { method: 'POST', path: '/api/studies/{}/resume', who: 'admin', param: 'id', where: 'path', values: BAD_STUDY_IDS },
  { method: 'POST', path: '/api/studies/{}/stop', who: 'admin', param: 'id', where: 'path', values: BAD_STUDY_IDS },
  { method: 'POST', path: '/api/studies/{}/restart', who: 'admin', param: 'id', where: 'path', values: BAD_STUDY_IDS, body: { fromVersion: 0 } },
  { method: 'GET', path: '/api/sites/{}', who: 'admin', param: 'id', where: 'path', values: [LONG_ID, 'Upper-Case', 'semi;colon'] },
  { method: 'POST', path: '/api/sites/{}/suspend', who: 'admin', param: 'id', where: 'path', values: [LONG_ID, 'Upper-Case'] },
  { method: 'POST', path: '/api/sites/{}/reinstate', who: 'admin', param: 'id', where: 'path', values: [LONG_ID, 'Upper-Case'] },
  { method: 'POST', path: `/api/sites/${SITE.id}/members/{}/link`, who: 'admin', param: 'userId', where: 'path', values: [LONG_ID, 'not-a-uuid', '99999999999'] },
  { method: 'DELETE', path: `/api/sites/${SITE.id}/members/{}/link`, who: 'admin', param: 'userId', where: 'path', values: [LONG_ID, 'not-a-uuid'] },
  { method: 'DELETE', path: '/api/sites/{}/members/00000000-0000-4000-8000-000000000000/link', who: 'admin', param: 'id', where: 'path', values: [LONG_ID, 'Upper-Case'] },
  { method: 'DELETE', path: '/api/invites/{}', who: 'admin', param: 'id', where: 'path', values: [LONG_ID, 'not-a-uuid', '99999999999'] },
  { method: 'GET', path: '/api/auth/invites/{}', who: 'anonymous', param: 'code', where: 'path', values: ['x'.repeat(300), 'short'] },
  { method: 'GET', path: '/api/chat/conversations/{}', who: 'patient', param: 'id', where: 'path', values: [LONG_ID, 'semi;colon'] },
  { method: 'GET', path: '/api/audit?before={}', who: 'admin', param: 'before', where: 'query', values: ['99999999999', '2147483648', '-1', '0', '1.5', 'abc'] },
  { method: 'GET', path: '/api/audit?limit={}', who: 'admin', param: 'limit', where: 'query', values: ['0', '501', '99999999999', '-5', '2.5', 'abc'] },
  { method: 'GET', path: '/api/audit?since={}', who: 'admin', param: 'since', where: 'query', values: ['yesterday', '99999-01-01T00:00:00Z'] },
  { method: 'GET', path: '/api/audit?studyId={}', who: 'admin', param: 'studyId', where: 'query', values: [LONG_ID] },
];

describe.each(testDatabaseTargets())('path and query parameters are checked before they are used ($name)', (target) => {
  let database: Database;
  let server: RunningServer;
  const headers = {} as Record<Who, Record<string, string>>;

  beforeAll(async () => {
    database = await target.open();
    await target.reset(database);
    await database.db.insert(sites).values({ id: SITE.id, name: SITE.name });
    await createStudy(database.db, { id: STUDY, name: 'Parameters', templateId: 'heart-risk' });
    await enrolSite(database.db, STUDY, SITE.id);
    server = await startServer(database);
    const session = async (opts: Parameters<typeof signIn>[1]) => {
      const { userId: _, ...h } = await signIn(server, opts);
      return h;
    };
    headers.anonymous = {};
    headers.admin = await session({});
    headers.patient = await session({ role: 'patient' });
    headers.hospital = { authorization: `Bearer ${await server.consilium.tokens.hospitalLink(SITE.id)}` };
  });
  afterAll(async () => {
    await server?.stop();
    await target.dispose(database);
  });

  const call = (method: string, path: string, who: Who, body?: unknown) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { ...headers[who], ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });

  it('answers every bad path or query parameter with 400, naming the parameter and the reason, never 500', async () => {
    const failures: string[] = [];
    for (const c of cases)
      for (const value of c.values) {
        // Values are sent as written ('%201' is an encoded space); anything else is encoded.
        const encoded = value.startsWith('%') ? value : encodeURIComponent(value);
        const path = c.path.replace('{}', encoded);
        const res = await call(c.method, path, c.who, c.body);
        const text = await res.text();
        const label = `${c.method} ${path.length > 90 ? `${path.slice(0, 90)}…` : path} as ${c.who}`;
        if (res.status !== 400) {
          failures.push(`${label}: ${res.status} ${text.slice(0, 200)}`);
          continue;
        }
        const { error } = JSON.parse(text) as ErrorJson;
        if (error.code !== ErrorCode.BadRequest) failures.push(`${label}: code ${error.code}`);
        // The parameter by name, a reason after it, and what was sent (cut short when long).
        const prefix = `${c.where} parameter ${c.param}: `;
        if (!error.message.startsWith(prefix) || error.message.length < prefix.length + 10) failures.push(`${label}: message ${JSON.stringify(error.message)}`);
        if (!error.message.includes(`(got '`)) failures.push(`${label}: does not quote the value: ${JSON.stringify(error.message)}`);
      }
    expect(failures).toEqual([]);
  });

  it('says what a number must be', async () => {
    const res = await call('GET', `/api/studies/${STUDY}/models/99999999999`, 'hospital');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { code: ErrorCode.BadRequest, message: "path parameter version: must be a whole number from 0 to 2147483647 (got '99999999999')" },
    });
    const long = await (await call('GET', `/api/studies/${LONG_ID}`, 'admin')).json();
    expect((long as ErrorJson).error.message).toBe(`path parameter id: a study id is at most 63 characters (got '${'a'.repeat(40)}…')`);
    const approved = await (await call('GET', `/api/studies/${STUDY}/versions/latest/model.json`, 'anonymous')).json();
    expect((approved as ErrorJson).error.message).toBe("path parameter version: must be 'approved' or a whole number from 0 to 2147483647 (got 'latest')");
  });

  it('keeps the values routes take on purpose: versions from 0 up, `approved`, real ids and in-range queries', async () => {
    // Version 0 exists from the study's creation.
    expect((await call('GET', `/api/studies/${STUDY}/models/0`, 'hospital')).status).toBe(200);
    expect((await call('GET', `/api/studies/${STUDY}/models/0007`, 'hospital')).status).toBe(404);
    expect((await call('GET', `/api/studies/${STUDY}/models/2147483647`, 'hospital')).status).toBe(404);
    expect((await call('GET', `/api/studies/${STUDY}/versions/0/model.json`, 'admin')).status).toBe(200);
    expect((await call('GET', `/api/studies/${STUDY}/versions/0/weights.bin`, 'admin')).status).toBe(200);
    expect((await call('GET', `/api/studies/${STUDY}/versions/0/evaluation`, 'admin')).status).toBe(200);
    // Nothing approved yet: `approved` is understood, and there is none.
    const none = await call('GET', `/api/studies/${STUDY}/versions/approved/model.json`, 'anonymous');
    expect(none.status).toBe(404);
    expect(((await none.json()) as ErrorJson).error.message).toMatch(/no approved model yet/);
    expect((await call('GET', `/api/studies/${STUDY}/versions/0/model.json`, 'anonymous')).status).toBe(401);
    expect((await call('POST', `/api/studies/${STUDY}/versions/0/approve`, 'admin', { note: 'first' })).status).toBe(201);
    expect((await call('GET', `/api/studies/${STUDY}/versions/approved/model.json`, 'anonymous')).status).toBe(200);
    expect((await call('GET', `/api/studies/${STUDY}/versions/approved/weights.bin`, 'anonymous')).status).toBe(200);
    expect((await call('GET', `/api/public/studies/${STUDY}/risk-model`, 'anonymous')).status).toBe(200);
    expect((await call('GET', `/api/studies/${STUDY}`, 'admin')).status).toBe(200);
    expect((await call('GET', `/api/sites/${SITE.id}`, 'admin')).status).toBe(200);
    expect((await call('GET', '/api/sites/no-such-site', 'admin')).status).toBe(404);
    expect((await call('DELETE', `/api/invites/${crypto.randomUUID()}`, 'admin')).status).toBe(404);
    expect((await call('GET', '/api/chat/conversations/no-such-conversation', 'patient')).status).toBe(404);
    const audit = await call('GET', '/api/audit?before=2147483647&limit=500&since=2020-01-01T00:00:00Z', 'admin');
    expect(audit.status).toBe(200);
    expect(((await audit.json()) as { events: unknown[] }).events.length).toBeGreaterThan(0);
  });

  it('refuses a restart from a version no integer column holds, with 400', async () => {
    const res = await call('POST', `/api/studies/${STUDY}/restart`, 'admin', { fromVersion: 99999999999 });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorJson).error).toMatchObject({ code: ErrorCode.BadRequest, message: expect.stringMatching(/^fromVersion: /) });
  });

  it('refuses an upload to a round that is no round number with 400, records the refusal, and stores nothing else', async () => {
    await database.db.delete(refusedUpdates);
    const blobsBefore = new Set(await database.blobs.list());
    const sent = [
      { text: '99999999999', recorded: 2_147_483_647 },
      { text: '2147483648', recorded: 2_147_483_647 },
      { text: '-99999999999', recorded: -2_147_483_648 },
      { text: '-1', recorded: -1 },
      { text: '1.5', recorded: 0 },
      { text: 'abc', recorded: 0 },
    ];
    for (const { text } of sent) {
      const res = await fetch(`${server.url}/api/studies/${STUDY}/rounds/${encodeURIComponent(text)}/updates`, {
        method: 'POST',
        headers: { ...headers.hospital, 'content-type': 'application/octet-stream', 'idempotency-key': `bad-round-${text.replace(/[^0-9a-z]/g, '_')}` },
        body: new Uint8Array(64).fill(7),
      });
      expect(res.status, text).toBe(400);
      expect(await res.json(), text).toEqual({
        error: { code: ErrorCode.BadRequest, message: `path parameter round: must be a whole number from 0 to 2147483647 (got '${text}')` },
      });
    }
    const rows = await database.db.select().from(refusedUpdates).orderBy(asc(refusedUpdates.id));
    expect(rows.map((r) => ({ text: r.reason.match(/\(got '(.*)'\)$/)?.[1], recorded: r.roundNumber }))).toEqual(sent);
    expect(rows.every((r) => r.studyId === STUDY && r.code === ErrorCode.BadRequest && r.bytes === 0 && r.reason.startsWith('path parameter round: '))).toBe(true);
    // The admins see them among the refused updates.
    const dashboard = (await (await call('GET', `/api/studies/${STUDY}/dashboard`, 'admin')).json()) as { refused: { reason: string }[] };
    expect(dashboard.refused.filter((r) => r.reason.startsWith('path parameter round: '))).toHaveLength(sent.length);
    // Nothing but the refusals: no update, no round, no stored bytes.
    expect((await database.db.select({ n: count() }).from(updates))[0].n).toBe(0);
    expect((await database.db.select({ n: count() }).from(rounds))[0].n).toBe(0);
    expect(new Set(await database.blobs.list())).toEqual(blobsBefore);
  });

  it('still takes a round number in range to intake, which answers for the round itself', async () => {
    const res = await fetch(`${server.url}/api/studies/${STUDY}/rounds/2147483647/updates`, {
      method: 'POST',
      headers: { ...headers.hospital, 'content-type': 'application/octet-stream', 'idempotency-key': 'in-range-round' },
      body: new Uint8Array(16),
    });
    // Not a parameter error: the body is read and refused as an update (it is no update at all).
    expect(res.status).not.toBe(500);
    expect(((await res.json()) as ErrorJson).error.message).not.toMatch(/parameter round/);
  });
});
