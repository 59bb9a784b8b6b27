import { eq } from 'drizzle-orm';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditPage } from '../../shared/protocol/accounts';
import {
  clientsResponseSchema,
  createdApiTokenSchema,
  currentRoundsResponseSchema,
  latestMetricsResponseSchema,
  metricsHistoryResponseSchema,
  METRICS_CSV_COLUMNS,
  type ApiTokenList,
  type CreatedApiToken,
} from '../../shared/protocol/monitoring';
import { healthSchema } from '../../shared/protocol/schemas';
import { demoHospitals } from '../../shared/synthetic';
import { createUser } from '../auth/accounts';
import type { Database } from '../db/client';
import { apiTokens } from '../db/schema';
import { createStudy } from '../studies/service';
import { testDatabaseTargets } from '../testing/databases';
import { emitAck, nextEvent, signIn } from '../testing/harness';
import { heartShapes, startHeartStudy, uploadDelta, type HeartStudy } from '../testing/heartStudy';
import { apiTokenRefusals, createApiTokens, LAST_USED_EVERY_MS } from './apiTokens';

/**
 * The monitoring API on a heart study with two closed rounds and the third open, read with an admin
 * session and with an API token; and the tokens themselves: shown once, hashed at rest, read-only,
 * revocable, audited.
 */
const STUDY = 'heart-monitored';
const QUIET = 'quiet-study';
const HOSPITALS = demoHospitals.slice(0, 2);
const RECORDS = [200, 300];
const ROUTES = [`/api/rounds/current?study=${STUDY}`, `/api/metrics/latest?study=${STUDY}`, `/api/metrics/history?study=${STUDY}`, `/api/clients?study=${STUDY}`];

const small = (k: number) => heartShapes.map(({ shape }, t) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(k * 7 + t * 3 + i) * 0.01));
type ErrorBody = { error: { code: string; message: string } };

describe.each(testDatabaseTargets())('the monitoring API and its API tokens ($name)', (target) => {
  let database: Database;
  let study: HeartStudy;
  let url: string;

  const get = (path: string, headers: Record<string, string> = study.admin) => fetch(`${url}${path}`, { headers });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const evaluation = (k: number, version: number, loss: number, correct: number, numSamples: number) =>
    emitAck(study.sockets[k], 'hospital:evaluation', { studyId: STUDY, version, loss, accuracy: correct / numSamples, numSamples, backend: 'cpu' });

  beforeAll(async () => {
    database = await target.open();
    study = await startHeartStudy(target, database, { studyId: STUDY, hospitals: HOSPITALS, records: RECORDS, config: { rounds: 5 } });
    url = study.server.url;
    await createStudy(database.db, { id: QUIET, name: 'Quiet', templateId: 'heart-risk' });
    for (const round of [1, 2]) {
      const closed = nextEvent(study.sockets[1], 'round:closed');
      const opened = nextEvent(study.sockets[1], 'round:open');
      for (const k of [0, 1]) expect((await uploadDelta(study, STUDY, k, { round, baseVersion: round - 1, numSamples: RECORDS[k] }, small(k + round))).status).toBe(200);
      expect(await closed).toMatchObject({ round, version: round });
      expect(await opened).toMatchObject({ round: round + 1 });
    }
    // Version 1 evaluated by both sites, version 2 by the first only.
    expect(await evaluation(0, 1, 0.5, 16, 20)).toMatchObject({ ok: true });
    expect(await evaluation(1, 1, 0.6, 21, 30)).toMatchObject({ ok: true });
    expect(await evaluation(0, 2, 0.4, 17, 20)).toMatchObject({ ok: true });
    await study.server.consilium.coordinator.settle();
  }, 120_000);
  afterAll(async () => {
    await study?.stop();
    await target.dispose(database);
  });

  it('GET /api/health stays public and says the database and the blob storage answer', async () => {
    const res = await get('/api/health', {});
    expect(res.status).toBe(200);
    const health = healthSchema.parse(await res.json());
    expect(health).toMatchObject({ status: 'ok', database: { kind: target.name, reachable: true }, storage: { reachable: true } });

    // A store that does not answer (its disk gone, say) makes the server degraded, for a load balancer to see.
    const ping = vi.spyOn(database.blobs, 'ping').mockResolvedValue(false);
    try {
      const degraded = await get('/api/health', {});
      expect(degraded.status).toBe(503);
      expect(await degraded.json()).toMatchObject({ status: 'degraded', database: { reachable: true }, storage: { reachable: false } });
    } finally {
      ping.mockRestore();
    }
  });

  it('GET /api/rounds/current: the open round with its counts, per study or for every study', async () => {
    const res = await get(`/api/rounds/current?study=${STUDY}`);
    expect(res.status).toBe(200);
    const one = currentRoundsResponseSchema.parse(await res.json());
    expect(one.studies).toEqual([
      {
        studyId: STUDY,
        studyName: STUDY,
        studyStatus: 'running',
        round: { round: 3, status: 'open', baseVersion: 2, openedAt: expect.any(String), deadline: expect.any(String), sampled: 2, received: 0 },
      },
    ]);
    expect(Date.parse(one.studies[0].round!.deadline)).toBeGreaterThan(Date.parse(one.studies[0].round!.openedAt));

    expect((await uploadDelta(study, STUDY, 0, { round: 3, baseVersion: 2, numSamples: RECORDS[0] }, small(9))).status).toBe(200);
    const all = currentRoundsResponseSchema.parse(await (await get('/api/rounds/current')).json());
    expect(all.studies.map((s) => [s.studyId, s.round?.round ?? null, s.round?.received ?? null])).toEqual([
      [STUDY, 3, 1],
      [QUIET, null, null],
    ]);
  });

  it('GET /api/metrics/latest: the latest closed round’s training and pooled validation figures', async () => {
    const one = latestMetricsResponseSchema.parse(await (await get(`/api/metrics/latest?study=${STUDY}`)).json());
    expect(one.studies).toEqual([
      {
        studyId: STUDY,
        studyName: STUDY,
        latest: {
          round: 2,
          version: 2,
          closedAt: expect.any(String),
          contributors: 2,
          trainingSamples: 500,
          trainLoss: null,
          validationLoss: 0.4,
          validationAccuracy: 0.85,
          validationSamples: 20,
          validationReports: 1,
        },
      },
    ]);
    const all = latestMetricsResponseSchema.parse(await (await get('/api/metrics/latest')).json());
    expect(all.studies.map((s) => [s.studyId, s.latest?.round ?? null])).toEqual([
      [STUDY, 2],
      [QUIET, null],
    ]);
  });

  it('GET /api/metrics/history: every closed round, oldest first, a page at a time with the total', async () => {
    const page = metricsHistoryResponseSchema.parse(await (await get(`/api/metrics/history?study=${STUDY}`)).json());
    expect(page).toMatchObject({ studyId: STUDY, total: 2, limit: 100, offset: 0 });
    expect(page.rounds.map((r) => [r.round, r.version, r.contributors, r.validationReports, r.validationSamples])).toEqual([
      [1, 1, 2, 2, 50],
      [2, 2, 2, 1, 20],
    ]);
    // Sample-weighted over both sites' reports: (0.5·20 + 0.6·30) / 50, and (16 + 21) / 50.
    expect(page.rounds[0].validationLoss).toBeCloseTo(0.56, 12);
    expect(page.rounds[0].validationAccuracy).toBeCloseTo(0.74, 12);

    const second = metricsHistoryResponseSchema.parse(await (await get(`/api/metrics/history?study=${STUDY}&limit=1&offset=1`)).json());
    expect(second).toMatchObject({ total: 2, limit: 1, offset: 1 });
    expect(second.rounds.map((r) => r.round)).toEqual([2]);
    const past = metricsHistoryResponseSchema.parse(await (await get(`/api/metrics/history?study=${STUDY}&offset=5&limit=1000`)).json());
    expect(past).toMatchObject({ total: 2, limit: 1000, offset: 5, rounds: [] });
    const none = metricsHistoryResponseSchema.parse(await (await get(`/api/metrics/history?study=${QUIET}`)).json());
    expect(none).toMatchObject({ studyId: QUIET, total: 0, rounds: [] });
  });

  it('exports the history as CSV, by ?format=csv or by Accept: text/csv, as a download named for the study', async () => {
    const json = metricsHistoryResponseSchema.parse(await (await get(`/api/metrics/history?study=${STUDY}`)).json());
    for (const res of [await get(`/api/metrics/history?study=${STUDY}&format=csv`), await get(`/api/metrics/history?study=${STUDY}`, { ...study.admin, accept: 'text/csv' })]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${STUDY}-metrics.csv"`);
      const lines = (await res.text()).trimEnd().split('\r\n');
      expect(lines[0]).toBe(METRICS_CSV_COLUMNS.join(','));
      expect(lines).toHaveLength(3);
      const rows = lines.slice(1).map((l) => l.split(','));
      expect(rows.map((r) => r.slice(0, 2))).toEqual([
        ['1', '1'],
        ['2', '2'],
      ]);
      const at = (k: string) => METRICS_CSV_COLUMNS.indexOf(k as (typeof METRICS_CSV_COLUMNS)[number]);
      expect(Number(rows[0][at('validationLoss')])).toBe(json.rounds[0].validationLoss);
      expect(rows[0][at('closedAt')]).toBe(json.rounds[0].closedAt);
      // Unknown figures are empty fields, not "null".
      expect(rows[0][at('trainLoss')]).toBe('');
    }
    const paged = await get(`/api/metrics/history?study=${STUDY}&format=csv&limit=1&offset=1`);
    expect(paged.headers.get('x-total-count')).toBe('2');
    expect((await paged.text()).trimEnd().split('\r\n')).toHaveLength(2);
    // JSON by default, and when asked for first.
    expect((await get(`/api/metrics/history?study=${STUDY}`, { ...study.admin, accept: 'application/json, text/csv' })).headers.get('content-type')).toMatch(/json/);
  });

  it('GET /api/clients: each enrolled site, online now, last seen and rounds contributed', async () => {
    const res = clientsResponseSchema.parse(await (await get(`/api/clients?study=${STUDY}`)).json());
    expect(res.clients.map((c) => [c.siteId, c.siteName, c.online, c.roundsContributed, c.backend])).toEqual(
      HOSPITALS.map((h) => [h.id, h.name, true, 2, 'cpu']).sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
    );
    expect(res.clients.every((c) => c.studyId === STUDY && c.lastSeenAt !== null)).toBe(true);
    expect(clientsResponseSchema.parse(await (await get('/api/clients')).json()).clients).toHaveLength(2);
    expect(clientsResponseSchema.parse(await (await get(`/api/clients?study=${QUIET}`)).json()).clients).toEqual([]);
  });

  it('answers bad query parameters with a 400 that names them, and an unknown study with a 404', async () => {
    const bad: [string, RegExp][] = [
      [`/api/metrics/history?study=${STUDY}&limit=0`, /query parameter limit: must be from 1 to 1000/],
      [`/api/metrics/history?study=${STUDY}&limit=1001`, /query parameter limit: must be from 1 to 1000/],
      [`/api/metrics/history?study=${STUDY}&limit=ten`, /query parameter limit: must be a whole number/],
      [`/api/metrics/history?study=${STUDY}&offset=-1`, /query parameter offset: must be a whole number/],
      [`/api/metrics/history?study=${STUDY}&format=xml`, /query parameter format: must be 'json' or 'csv'/],
      ['/api/metrics/history', /query parameter study: required/],
      ['/api/rounds/current?study=Not_A_Study', /query parameter study: study ids are lower-case/],
      ['/api/clients?study=Not_A_Study', /query parameter study/],
      ['/api/metrics/latest?study=', /query parameter study/],
    ];
    for (const [path, message] of bad) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as ErrorBody).error, path).toMatchObject({ code: 'bad_request', message: expect.stringMatching(message) });
    }
    for (const path of ['/api/rounds/current', '/api/metrics/latest', '/api/metrics/history', '/api/clients']) {
      const res = await get(`${path}?study=no-such-study`);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as ErrorBody).error.message).toMatch(/no study 'no-such-study'/);
    }
  });

  it('refuses callers without an admin session or a token: anonymous 401, hospitals and staff 403', async () => {
    const staff = await signIn(study.server, { role: 'staff', siteId: HOSPITALS[0].id });
    for (const path of ROUTES) {
      expect((await get(path, {})).status, path).toBe(401);
      expect((await get(path, bearer(await study.token(0)))).status, path).toBe(403);
      expect((await get(path, { cookie: staff.cookie })).status, path).toBe(403);
    }
    expect((await get('/api/tokens', {})).status).toBe(401);
  });

  it('makes a token whose secret is shown once and kept only as its hash; it reads the monitoring routes and nothing else', async () => {
    const res = await study.api('/api/tokens', { method: 'POST', body: JSON.stringify({ name: 'Grafana' }) });
    expect(res.status).toBe(201);
    const created: CreatedApiToken = createdApiTokenSchema.parse(await res.json());
    expect(created).toMatchObject({ name: 'Grafana', scope: 'monitoring:read', token: expect.stringMatching(/^cst_[A-Za-z0-9_-]{43}$/) });

    const [row] = await database.db.select().from(apiTokens).where(eq(apiTokens.id, created.id));
    expect(row.hash).toBe(createHash('sha256').update(created.token).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(created.token.slice(4));
    expect(row).toMatchObject({ revokedAt: null, lastUsedAt: null, scope: 'monitoring:read' });

    const listed = await (await study.api('/api/tokens')).text();
    expect(listed).not.toContain(created.token.slice(4));
    expect((JSON.parse(listed) as ApiTokenList).tokens).toEqual([
      { id: created.id, name: 'Grafana', scope: 'monitoring:read', createdBy: expect.stringMatching(/@test\.local$/), createdAt: expect.any(String), lastUsedAt: null, revokedAt: null },
    ]);

    const token = bearer(created.token);
    for (const path of [...ROUTES, `/api/metrics/history?study=${STUDY}&format=csv`, '/api/rounds/current']) expect((await get(path, token)).status, path).toBe(200);
    const [used] = await database.db.select({ at: apiTokens.lastUsedAt }).from(apiTokens).where(eq(apiTokens.id, created.id));
    expect(used.at).toBeInstanceOf(Date);

    // Outside its scope it is no credential: any other route answers it as it would an anonymous caller.
    for (const path of ['/api/studies', `/api/studies/${STUDY}/dashboard`, '/api/audit', '/api/tokens', '/api/auth/me']) {
      const refused = await get(path, token);
      expect(refused.status, path).toBe(401);
      expect(((await refused.json()) as ErrorBody).error.message, path).toBe(apiTokenRefusals.outOfScope);
    }
    const writes: [string, string][] = [
      ['POST', '/api/tokens'],
      ['DELETE', `/api/tokens/${created.id}`],
      ['POST', `/api/studies/${STUDY}/pause`],
      ['POST', '/api/sites'],
    ];
    for (const [method, path] of writes) {
      const res = await fetch(`${url}${path}`, { method, headers: { ...token, 'content-type': 'application/json' }, body: method === 'POST' ? JSON.stringify({ name: 'x' }) : undefined });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    expect((await database.db.select().from(apiTokens)).map((t) => t.revokedAt)).toEqual([null]);
  });

  it('refuses a revoked or unknown token with a 401 that says so, and audits creation and revocation', async () => {
    const created = (await (await study.api('/api/tokens', { method: 'POST', body: JSON.stringify({ name: 'Prometheus' }) })).json()) as CreatedApiToken;
    expect((await get(ROUTES[0], bearer(created.token))).status).toBe(200);
    const revoked = await study.api(`/api/tokens/${created.id}`, { method: 'DELETE' });
    expect(revoked.status).toBe(204);
    for (const path of ROUTES) {
      const res = await get(path, bearer(created.token));
      expect(res.status, path).toBe(401);
      expect(((await res.json()) as ErrorBody).error).toEqual({ code: 'unauthenticated', message: apiTokenRefusals.revoked });
    }
    const unknown = await get(ROUTES[0], bearer('cst_not-a-token-anyone-made'));
    expect(unknown.status).toBe(401);
    expect(((await unknown.json()) as ErrorBody).error.message).toBe(apiTokenRefusals.unknown);
    const listed = ((await (await study.api('/api/tokens')).json()) as ApiTokenList).tokens.find((t) => t.id === created.id)!;
    expect(listed.revokedAt).not.toBeNull();

    expect((await study.api('/api/tokens/00000000-0000-4000-8000-000000000000', { method: 'DELETE' })).status).toBe(404);
    expect((await study.api('/api/tokens/not-a-uuid', { method: 'DELETE' })).status).toBe(400);
    expect((await study.api('/api/tokens', { method: 'POST', body: JSON.stringify({ name: '  ' }) })).status).toBe(400);

    const audit = (await (await study.api('/api/audit?action=api_token')).json()) as AuditPage;
    const mine = audit.events.filter((e) => e.detail?.tokenId === created.id);
    expect(mine.map((e) => [e.action, e.target])).toEqual([
      ['api_token.revoked', 'Prometheus'],
      ['api_token.created', 'Prometheus'],
    ]);
    expect(mine.every((e) => e.actor.endsWith('@test.local') && e.address !== null)).toBe(true);
    expect(JSON.stringify(audit)).not.toContain(created.token.slice(4));
  });

  it('records a token’s use at most once a minute', async () => {
    let now = Date.parse('2026-03-01T12:00:00Z');
    const tokens = createApiTokens(database.db, { now: () => now });
    const user = await createUser(database.db, { email: 'clock@test.local', password: 'correct horse battery', role: 'platform_admin', siteId: null });
    const { id, token } = await tokens.create({ name: 'clocked', createdBy: user.id });
    const use = async () => {
      const check = await tokens.check(token);
      await tokens.touch(check.token!);
      const [row] = await database.db.select({ at: apiTokens.lastUsedAt }).from(apiTokens).where(eq(apiTokens.id, id));
      return row.at?.getTime() ?? null;
    };
    const first = now;
    expect(await use()).toBe(first);
    now += LAST_USED_EVERY_MS - 1;
    expect(await use()).toBe(first);
    now += 1;
    expect(await use()).toBe(now);
  });
});
