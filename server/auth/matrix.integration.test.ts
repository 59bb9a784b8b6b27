import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedInvite } from '../../shared/protocol/accounts';
import type { Ack, ClientToServerEvents } from '../../shared/protocol/events';
import { heartRisk } from '../../shared/tasks';
import { openDatabase, type Database } from '../db/client';
import { seedDemo } from '../demo/seed';
import { eventRoles } from '../realtime/socket';
import { createStudy } from '../studies/service';
import { createSite } from '../sites/service';
import { connectSocket, signIn, startServer, type ClientSocket, type RunningServer } from '../testing/harness';

/**
 * The authorisation matrix. Every HTTP route the app registers and every Socket.IO event the server
 * listens to must have a rule here, or this test fails: a new route cannot ship without one. Each
 * rule says, per role (signed out included), whether the call is allowed (any answer but 401/403),
 * or answered 401 or 403.
 */

const ROLES = ['anonymous', 'patient', 'staff', 'siteAdmin', 'admin'] as const;
type RoleName = (typeof ROLES)[number];
type Outcome = 'ok' | 401 | 403;
type Expectation = Record<RoleName, Outcome>;
interface Case {
  expect: Expectation;
  /** Values for the path's parameters; mutating admin calls point at spare resources. */
  params?: Record<string, string>;
  body?: unknown;
  /** The call ends the session it is made with (sign-out): make it with a session of its own. */
  freshSession?: boolean;
}

const PUBLIC: Expectation = { anonymous: 'ok', patient: 'ok', staff: 'ok', siteAdmin: 'ok', admin: 'ok' };
const SIGNED_IN: Expectation = { anonymous: 401, patient: 'ok', staff: 'ok', siteAdmin: 'ok', admin: 'ok' };
const ADMIN_ONLY: Expectation = { anonymous: 401, patient: 403, staff: 403, siteAdmin: 403, admin: 'ok' };
const HOSPITAL_ONLY: Expectation = { anonymous: 401, patient: 403, staff: 'ok', siteAdmin: 'ok', admin: 403 };
const WORKFORCE: Expectation = { anonymous: 401, patient: 403, staff: 'ok', siteAdmin: 'ok', admin: 'ok' };
const PATIENT_ONLY: Expectation = { anonymous: 401, patient: 'ok', staff: 403, siteAdmin: 403, admin: 403 };
const SITE_MANAGERS: Expectation = { anonymous: 401, patient: 403, staff: 403, siteAdmin: 'ok', admin: 'ok' };

const SPARE_STUDY = { id: 'spare-study' };
const SPARE_SITE = { id: 'spare-site' };

/** Keyed by `METHOD path` exactly as Hono registers it. */
const rules: Record<string, Case | Case[]> = {
  'GET /api/health': { expect: PUBLIC },
  'GET /api/openapi.json': { expect: PUBLIC },
  'GET /api/docs': { expect: PUBLIC },
  'GET /api/docs/:asset': { expect: PUBLIC, params: { asset: 'start.js' } },
  'POST /api/auth/login': { expect: PUBLIC, body: {} },
  'POST /api/auth/refresh': { expect: { ...SIGNED_IN } },
  'POST /api/auth/logout': { expect: PUBLIC, freshSession: true },
  'GET /api/auth/me': { expect: SIGNED_IN },
  'GET /api/auth/invites/:code': { expect: PUBLIC },
  'POST /api/auth/invites/redeem': { expect: PUBLIC, body: {} },
  'POST /api/studies/:id/rounds/:round/updates': { expect: HOSPITAL_ONLY, params: { round: '1' } },
  'POST /api/studies/:id/rounds/:round/masked': { expect: HOSPITAL_ONLY, params: { round: '1' } },
  'GET /api/studies/:id/rounds/:round': { expect: ADMIN_ONLY, params: { round: '1' } },
  'GET /api/studies': { expect: WORKFORCE },
  'GET /api/studies/:id': { expect: WORKFORCE },
  'GET /api/studies/:id/dashboard': { expect: ADMIN_ONLY },
  'GET /api/studies/:id/data-quality': { expect: ADMIN_ONLY },
  'GET /api/studies/:id/record-privacy': { expect: WORKFORCE },
  'GET /api/studies/:id/models/:version': { expect: WORKFORCE, params: { version: '0' } },
  'GET /api/studies/:id/versions': { expect: ADMIN_ONLY },
  'GET /api/studies/:id/versions/:version/evaluation': { expect: ADMIN_ONLY, params: { version: '0' } },
  'GET /api/studies/:id/approvals': { expect: ADMIN_ONLY },
  'GET /api/studies/:id/metrics': { expect: ADMIN_ONLY },
  'POST /api/studies/:id/versions/:version/evaluations/:participantId/include': { expect: ADMIN_ONLY, params: { ...SPARE_STUDY, version: '0', participantId: 'nobody' } },
  'DELETE /api/studies/:id/versions/:version/evaluations/:participantId/include': { expect: ADMIN_ONLY, params: { ...SPARE_STUDY, version: '0', participantId: 'nobody' } },
  'POST /api/studies/:id/versions/:version/approve': { expect: ADMIN_ONLY, params: { ...SPARE_STUDY, version: '0' }, body: { note: 'matrix' } },
  'GET /api/studies/:id/versions/:version/model.json': [
    { expect: ADMIN_ONLY, params: { version: '0' } },
    { expect: PUBLIC, params: { version: 'approved' } },
  ],
  'GET /api/studies/:id/versions/:version/weights.bin': [
    { expect: ADMIN_ONLY, params: { version: '0' } },
    { expect: PUBLIC, params: { version: 'approved' } },
  ],
  'GET /api/public/studies/:id/risk-model': { expect: PUBLIC },
  'POST /api/studies': { expect: ADMIN_ONLY, body: {} },
  'POST /api/studies/:id/participants': { expect: ADMIN_ONLY, params: SPARE_STUDY, body: { siteId: 'spare-site' } },
  'PATCH /api/studies/:id/config': { expect: ADMIN_ONLY, params: SPARE_STUDY, body: {} },
  'GET /api/studies/:id/config-changes': { expect: ADMIN_ONLY },
  'POST /api/studies/:id/pause': { expect: ADMIN_ONLY, params: SPARE_STUDY },
  'POST /api/studies/:id/resume': { expect: ADMIN_ONLY, params: SPARE_STUDY },
  'POST /api/studies/:id/stop': { expect: ADMIN_ONLY, params: SPARE_STUDY },
  'POST /api/studies/:id/restart': { expect: ADMIN_ONLY, params: SPARE_STUDY, body: { fromVersion: 0 } },
  'GET /api/sites': { expect: ADMIN_ONLY },
  'POST /api/sites': { expect: ADMIN_ONLY, body: {} },
  'GET /api/sites/:id': { expect: SITE_MANAGERS },
  'POST /api/sites/:id/suspend': { expect: ADMIN_ONLY, params: SPARE_SITE },
  'POST /api/sites/:id/reinstate': { expect: ADMIN_ONLY, params: SPARE_SITE },
  // The demo site's staff account: a site admin manages their own site's links (another site's: tested in links.integration.test.ts).
  'POST /api/sites/:id/members/:userId/link': { expect: SITE_MANAGERS },
  'DELETE /api/sites/:id/members/:userId/link': { expect: SITE_MANAGERS },
  'GET /api/invites': { expect: ADMIN_ONLY },
  'POST /api/invites': { expect: SITE_MANAGERS, body: {} },
  'DELETE /api/invites/:id': { expect: SITE_MANAGERS },
  'GET /api/audit': { expect: ADMIN_ONLY },
  'GET /api/templates': { expect: ADMIN_ONLY },
  'POST /api/templates': { expect: ADMIN_ONLY, body: {} },
  'GET /api/templates/:id': { expect: SIGNED_IN, params: { id: 'heart-risk' } },
  'GET /api/templates/:id/design': { expect: ADMIN_ONLY, params: { id: 'heart-risk' } },
  'POST /api/column-summaries': { expect: HOSPITAL_ONLY, body: {} },
  'GET /api/column-summaries': { expect: ADMIN_ONLY },
  // The monitoring routes also take an API token (tested in monitoring.integration.test.ts); sessions: admins only.
  'GET /api/rounds/current': { expect: ADMIN_ONLY },
  'GET /api/metrics/latest': { expect: ADMIN_ONLY },
  'GET /api/metrics/history': { expect: ADMIN_ONLY },
  'GET /api/clients': { expect: ADMIN_ONLY },
  'GET /api/tokens': { expect: ADMIN_ONLY },
  'POST /api/tokens': { expect: ADMIN_ONLY, body: {} },
  'DELETE /api/tokens/:id': { expect: ADMIN_ONLY, params: { id: '00000000-0000-4000-8000-000000000000' } },
  'GET /api/chat/conversations': { expect: PATIENT_ONLY },
  'GET /api/chat/conversations/:id': { expect: PATIENT_ONLY, params: { id: 'no-such-conversation' } },
  'DELETE /api/chat/history': { expect: PATIENT_ONLY },
};

/** Who may send each Socket.IO event: the same roles the server's own `eventRoles` names. */
const eventRules: Record<keyof ClientToServerEvents, { expect: Expectation; payload: unknown }> = {
  'hospital:join': { expect: HOSPITAL_ONLY, payload: { studyId: 'heart-demo' } },
  'hospital:progress': { expect: HOSPITAL_ONLY, payload: { studyId: 'heart-demo', state: 'idle' } },
  'hospital:evaluation': { expect: HOSPITAL_ONLY, payload: { studyId: 'heart-demo' } },
  'hospital:statistics': { expect: HOSPITAL_ONLY, payload: { studyId: 'heart-demo' } },
  'admin:watch': { expect: ADMIN_ONLY, payload: { studyId: 'heart-demo' } },
  'admin:log:subscribe': { expect: ADMIN_ONLY, payload: { subscription: 'matrix', studyId: 'heart-demo' } },
  'admin:log:unsubscribe': { expect: ADMIN_ONLY, payload: { subscription: 'matrix' } },
  'secagg:advertise': { expect: HOSPITAL_ONLY, payload: { studyId: 'heart-demo' } },
  'secagg:shares': { expect: HOSPITAL_ONLY, payload: { studyId: 'heart-demo' } },
  'secagg:reveal': { expect: HOSPITAL_ONLY, payload: { studyId: 'heart-demo' } },
};

describe('the authorisation matrix, generated from the registered routes and events', () => {
  let database: Database;
  let server: RunningServer;
  const headers = {} as Record<RoleName, Record<string, string>>;
  const as = {} as Record<RoleName, Parameters<typeof signIn>[1]>;
  let siteId: string;
  let memberId: string;
  let openInvite: CreatedInvite;
  let inviteCode: string;

  beforeAll(async () => {
    database = await openDatabase({ pglite: new PGlite() });
    const demo = await seedDemo(database.db, {});
    siteId = demo.hospitals[0].siteId;
    memberId = demo.hospitals[0].userId;
    await createSite(database.db, { id: 'spare-site', name: 'Spare Hospital' });
    await createStudy(database.db, { id: 'spare-study', name: 'Spare', templateId: heartRisk.id, config: {} });
    server = await startServer(database);
    headers.anonymous = {};
    as.patient = { role: 'patient' };
    as.staff = { role: 'staff', siteId };
    as.siteAdmin = { role: 'site_admin', siteId };
    as.admin = {};
    for (const role of ROLES.filter((r) => r !== 'anonymous')) {
      const { userId: _, ...h } = await signIn(server, as[role]);
      headers[role] = h;
    }
    const created = await fetch(`${server.url}/api/invites`, {
      method: 'POST',
      headers: { ...headers.admin, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'staff', siteId }),
    });
    openInvite = (await created.json()) as CreatedInvite;
    inviteCode = openInvite.code;
  });
  afterAll(async () => {
    await server?.stop();
    await database?.close();
  });

  it('has a rule for every registered HTTP route, and no rule for a route that does not exist', () => {
    const registered = new Set(server.consilium.app.routes.filter((r) => r.method !== 'ALL' && r.path.startsWith('/api/')).map((r) => `${r.method} ${r.path}`));
    expect([...registered].filter((r) => !(r in rules)), 'routes without a rule').toEqual([]);
    expect(Object.keys(rules).filter((r) => !registered.has(r)), 'rules without a route').toEqual([]);
  });

  it('answers every route as its rule says, for every role', async () => {
    const failures: string[] = [];
    for (const [key, rule] of Object.entries(rules)) {
      const [method, pattern] = key.split(' ');
      for (const c of Array.isArray(rule) ? rule : [rule]) {
        const params: Record<string, string> = { id: key.includes('/sites/') ? siteId : key.includes('/invites/:id') ? openInvite.id : 'heart-demo', code: inviteCode, userId: memberId, ...c.params };
        const path = pattern.replace(/:([a-z]+)(\{[^}]*\})?/gi, (_, name: string) => encodeURIComponent(params[name] ?? name));
        for (const role of ROLES) {
          const own = c.freshSession && role !== 'anonymous' ? await signIn(server, as[role]) : headers[role];
          const res = await fetch(`${server.url}${path}`, {
            method,
            headers: { cookie: own.cookie ?? '', 'x-csrf-token': own['x-csrf-token'] ?? '', ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}) },
            body: c.body !== undefined ? JSON.stringify(c.body) : undefined,
          });
          await res.arrayBuffer();
          const want = c.expect[role];
          const got = res.status === 401 || res.status === 403 ? res.status : 'ok';
          if (got !== want) failures.push(`${method} ${path} as ${role}: expected ${want}, got ${res.status}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('has a rule for every Socket.IO event the server listens to, the same as the server enforces', async () => {
    const admin = await connectSocket(server.url, { cookie: headers.admin.cookie });
    try {
      const serverSide = [...server.consilium.io!.of('/').sockets.values()][0];
      // Socket.IO's reserved events are not client events.
      const listened = serverSide.eventNames().filter((e) => !['disconnect', 'disconnecting', 'error'].includes(String(e)));
      expect([...listened].sort()).toEqual(Object.keys(eventRules).sort());
      for (const [event, rule] of Object.entries(eventRules)) {
        const roles = eventRoles[event as keyof typeof eventRoles] as readonly string[];
        const fromRule = (['patient', 'staff', 'admin'] as const).filter((r) => rule.expect[r] === 'ok').map((r) => (r === 'staff' ? 'hospital' : r));
        expect(fromRule, event).toEqual([...roles]);
      }
    } finally {
      admin.disconnect();
    }
  });

  it('answers every event as its rule says, for every role', async () => {
    const failures: string[] = [];
    await expect(connectSocket(server.url, {})).rejects.toThrow(/unauthenticated/);
    for (const role of ROLES.filter((r) => r !== 'anonymous')) {
      const socket: ClientSocket = await connectSocket(server.url, { cookie: headers[role].cookie });
      try {
        for (const [event, rule] of Object.entries(eventRules)) {
          const ack = (await (socket.timeout(10_000) as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<unknown>> }).emitWithAck(event, rule.payload));
          const got: Outcome = ack.ok ? 'ok' : ack.error.code === 'unauthenticated' ? 401 : ack.error.code === 'forbidden' ? 403 : 'ok';
          if (got !== rule.expect[role]) failures.push(`${event} as ${role}: expected ${rule.expect[role]}, got ${ack.ok ? 'ok' : `${ack.error.code} (${ack.error.message})`}`);
        }
      } finally {
        socket.disconnect();
      }
    }
    expect(failures).toEqual([]);
  });

  it('keeps the patient chat namespace open to everyone, on purpose, with its one event', async () => {
    const { io: connect } = await import('socket.io-client');
    for (const role of ROLES) {
      const chat = connect(`${server.url}/chat`, { transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders: headers[role].cookie ? { cookie: headers[role].cookie, origin: server.url } : undefined });
      try {
        await new Promise<void>((resolve, reject) => {
          chat.once('connect', () => resolve());
          chat.once('connect_error', reject);
        });
        const ack = (await (chat.timeout(10_000) as unknown as { emitWithAck(e: string, p: unknown): Promise<Ack<unknown>> }).emitWithAck('chat:ask', { message: 'What is cholesterol?' }));
        expect(ack.ok, `chat:ask as ${role}`).toBe(true);
        const listened = [...server.consilium.io!.of('/chat').sockets.values()].flatMap((x) => x.eventNames().map(String));
        expect([...new Set(listened)].filter((e) => !['disconnect', 'disconnecting', 'error'].includes(e))).toEqual(['chat:ask']);
      } finally {
        chat.disconnect();
      }
    }
  });
});
