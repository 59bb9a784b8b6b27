import { eq } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { parse as parseCookies } from 'hono/utils/cookie';
import { secureHeaders } from 'hono/secure-headers';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Server as HttpServer } from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { ConsiliumError, ErrorCode } from '../shared/protocol/errors';
import type { ClusterAnswer } from '../shared/protocol/events';
import { healthSchema, type Health } from '../shared/protocol/schemas';
import { parameterCount, templates } from '../shared/tasks';
import { authRoutes } from './auth/routes';
import { loadSigningKey } from './auth/secret';
import { createSessions, type SessionOptions, type Sessions } from './auth/sessions';
import { createTokens, SESSION_COOKIE, type Tokens } from './auth/tokens';
import { createLinks, type Links } from './auth/links';
import { createAudit, type Audit } from './audit/log';
import { auditRoutes } from './audit/routes';
import { inviteRoutes, siteRoutes } from './sites/routes';
import { systemClock, type Clock } from './clock';
import type { Database } from './db/client';
import { participants } from './db/schema';
import { chatRoutes } from './chat/routes';
import { attachChat } from './chat/socket';
import type { ChatConfig } from './chat/config';
import { defaultBodyLimit } from './http/bodyLimit';
import { errorBody, errorHandler } from './http/errors';
import { addressMiddleware, addressOf as requestAddress, principalMiddleware, type AppEnv } from './http/principal';
import { accountOf, clientAddress, consume, createRateLimiters, jsonFieldOf, rateLimit, type RateLimitSettings } from './http/rateLimit';
import { doc } from './openapi/describe';
import { openApiRoutes } from './openapi/routes';
import { createMetrics, type Metrics } from './observability/metrics';
import { metricsHandler } from './observability/routes';
import type { LogHub } from './observability/logHub';
import type { Redis } from 'ioredis';
import { StudyLeases } from './cluster/leases';
import { SharedPresence } from './cluster/sharedPresence';
import { Presence } from './realtime/presence';
import { attachRealtime, rooms, sameOrigin, type RealtimeDeps } from './realtime/socket';
import { Coordinator, type CoordinatorEvents } from './rounds/coordinator';
import type { ClusterAsk } from './rounds/types';
import { roundRoutes } from './rounds/routes';
import { ModelDownloads } from './rounds/downloads';
import { studyRoutes } from './studies/routes';
import { modelRoutes } from './models/routes';
import { publicModelRoutes } from './models/publicRoutes';
import { metricSeriesRoutes } from './models/seriesRoutes';
import { studyAdminRoutes } from './studies/adminRoutes';
import { columnSummaryRoutes, templateRoutes } from './templates/routes';
import { loadCustomTemplates } from './templates/store';
import { createApiTokens } from './monitoring/apiTokens';
import { monitoringRoutes } from './monitoring/routes';
import { apiTokenRoutes } from './monitoring/tokenRoutes';

async function siteOfParticipant(db: Database['db'], participantId: string): Promise<string | null> {
  const [row] = await db.select({ siteId: participants.siteId }).from(participants).where(eq(participants.id, participantId));
  return row?.siteId ?? null;
}

export const SERVER_VERSION = '0.1.0';

function askCoordinator(io: ConsiliumApp['io'], q: ClusterAsk): Promise<unknown> {
  const unavailable = () => new ConsiliumError(ErrorCode.Unavailable, 'no server process coordinates this study at the moment (one is taking it over): try again in a few seconds', 503);
  if (!io) return Promise.reject(unavailable());
  return new Promise((resolve, reject) => {
    const emit = io.serverSideEmit.bind(io) as unknown as (e: 'cluster:ask', q: ClusterAsk, cb: (err: Error | null, answers: (ClusterAnswer | null)[]) => void) => void;
    emit('cluster:ask', q, (_err, answers) => {
      const a = (answers ?? []).find((x) => x);
      if (!a) reject(unavailable());
      else if (a.ok) resolve(a.value);
      else reject(new ConsiliumError(a.error.code as ErrorCode, a.error.message, a.error.status));
    });
  });
}

export interface AppDeps {
  database: Database;
  clock?: Clock;
  logger?: Logger;
  /** Where `logger` also writes: the kept log behind the admins' live view (./observability/serverLogger.ts). */
  logHub?: LogHub;
  /** Folder of the built SPA; omitted or missing means API only. */
  staticDir?: string;
  /** Set Secure on cookies (behind TLS). */
  secureCookies?: boolean;
  /** Session and access-token lifetimes. */
  sessions?: SessionOptions;
  /** The patient chat's daily limit and optional language model; defaults: 200 a day, no model. */
  chat?: ChatConfig;
  /** Served over TLS (by this process or a proxy in front): send HSTS. */
  tls?: boolean;
  /** Overrides of the default rate limits (tests use small ones). */
  rateLimits?: Partial<RateLimitSettings>;
  /** Largest request body (bytes) outside update uploads, which are sized to the model. Default 64 KiB. */
  maxBodyBytes?: number;
  /** Reverse proxies in front whose X-Forwarded-For names the client's address (default 0: none). */
  trustProxyHops?: number;
  /** Ended rounds per study whose update payloads are kept for audits (default 0: deleted once their version is written). */
  keepUpdateRounds?: number;
  /** Limits on the Socket.IO events one connection and one account may send (defaults in realtime/eventBudget.ts). */
  eventBudget?: RealtimeDeps['eventBudget'];
  /** Days a hospital sign-in link works from when it is made (default 30). */
  hospitalLinkDays?: number;
  /** `METRICS_TOKEN`: the bearer token that opens `/metrics` to a scraper anywhere (./observability/routes.ts). */
  metricsToken?: string;
  /**
   * One of several processes on one PostgreSQL (./cluster/): each study coordinated by whichever
   * process holds its lease, events, presence and limits shared through this Redis. Omitted: this
   * process is the only one (the database's coordinator lock sees to that).
   */
  cluster?: ClusterOptions;
}

export interface ClusterOptions {
  redis: Redis;
  /** The shared PostgreSQL's URL: the study leases hold their locks on a connection of their own. */
  databaseUrl: string;
  /** This process's name among its peers: unique. */
  processName: string;
  /** Prefix of every Redis key and channel of this federation (default 'consilium:'). */
  prefix?: string;
  /** How often free studies are looked for (ms, default 1000): a dead process's studies are taken within about this. */
  leaseIntervalMs?: number;
}

export interface ConsiliumApp {
  app: Hono<AppEnv>;
  coordinator: Coordinator;
  presence: Presence;
  tokens: Tokens;
  sessions: Sessions;
  /** Hospital sign-in links of staff accounts: issue, revoke, re-issue. */
  links: Links;
  audit: Audit;
  /** This app's Prometheus registry and counters, served at `/metrics`. */
  metrics: Metrics;
  /** The Socket.IO server, once attached. */
  readonly io: ReturnType<typeof attachRealtime>['io'] | undefined;
  /** Attach Socket.IO to the HTTP server and resume any rounds left open. */
  attach(server: HttpServer): Promise<void>;
  /**
   * Several processes: stop taking part. Health answers 503 (the load balancer stops sending new
   * connections), the studies this process coordinates are handed over, and its tabs are cut so they
   * reconnect through the balancer to another process. The caller then closes.
   */
  drain(): Promise<void>;
  /** The studies this process coordinates (every one when it is the only process). */
  leads(studyId: string): boolean;
  close(): Promise<void>;
}

/** Build the whole server from its dependencies, so tests run it on a fresh PGlite or PostgreSQL alike. */
export async function createApp(deps: AppDeps): Promise<ConsiliumApp> {
  const { database } = deps;
  const db = database.db;
  const clock = deps.clock ?? systemClock;
  const log = deps.logger ?? pino({ level: 'silent' });
  const tokens = createTokens(await loadSigningKey(db), { clock, linkSeconds: deps.hospitalLinkDays === undefined ? undefined : deps.hospitalLinkDays * 24 * 3600 });
  const sessions = createSessions({ db, tokens, clock, options: deps.sessions });
  const links = createLinks({ db, tokens, clock, sessions });
  const audit = createAudit(db, log);
  const cluster = deps.cluster;
  if (cluster && !database.client) throw new Error('several server processes share one PostgreSQL: set DATABASE_URL');
  const prefix = cluster?.prefix ?? 'consilium:';
  const presence = cluster ? new SharedPresence(cluster.redis, { processId: cluster.processName, prefix, log }) : new Presence();
  const metrics = createMetrics({ db, presence, log });
  let leases: StudyLeases | undefined;
  let draining = false;

  // The coordinator talks to sockets that exist only once attached; until then its events go nowhere.
  let events: CoordinatorEvents = { roundOpened() {}, roundClosed() {}, changed() {} };
  // Studies of console-defined templates run like the built-in ones: every stored template is registered first.
  await loadCustomTemplates(db, log);
  const largestModel = Math.max(...Object.values(templates).map((t) => parameterCount(t.model)));
  const maxUpdateBytes = largestModel * 4 + 256 * 1024;
  const coordinator = new Coordinator({
    db,
    clock,
    presence,
    log,
    maxUpdateBytes,
    keepUpdateRounds: deps.keepUpdateRounds ?? 0,
    metrics,
    leadership: cluster
      ? {
          leads: (studyId) => leases?.leads(studyId) ?? false,
          poke: (p) => void realtime?.io.serverSideEmit('cluster:poke', p),
          ask: (q) => askCoordinator(realtime?.io, q),
        }
      : undefined,
    events: {
      roundOpened: (ids, round, own) => {
        void audit({ action: 'round.opened', actor: null, studyId: round.studyId, target: `round ${round.round}`, detail: { participants: ids.length, baseVersion: round.baseVersion } });
        events.roundOpened(ids, round, own);
      },
      roundClosed: (studyId, closed) => {
        void audit({ action: 'round.closed', actor: null, studyId, target: `round ${closed.round}`, detail: { status: closed.status, version: closed.version, contributors: closed.contributors } });
        events.roundClosed(studyId, closed);
      },
      changed: (studyId) => events.changed(studyId),
      toParticipant: (id, event, payload) => events.toParticipant?.(id, event, payload),
      recordsReported: (r) =>
        void siteOfParticipant(db, r.participantId).then((siteId) =>
          audit({
            action: 'site.records_reported',
            actor: { label: siteId ? `site ${siteId}` : 'unknown site' },
            studyId: r.studyId,
            siteId,
            detail: { previous: r.previous, records: r.records },
          }),
        ),
      evaluationFlagged: (f) =>
        void siteOfParticipant(db, f.participantId).then((siteId) =>
          audit({
            action: 'evaluation.flagged',
            actor: null,
            studyId: f.studyId,
            siteId,
            target: `version ${f.version}`,
            detail: f.flag ? { flag: f.flag } : { cleared: true },
          }),
        ),
      privacyBudgetSpent: (s) =>
        void audit({
          action: 'study.privacy_budget_spent',
          actor: null,
          studyId: s.studyId,
          target: `after round ${s.rounds}`,
          detail: { epsilon: s.epsilon, nextRoundEpsilon: s.next, budget: s.budget, delta: s.delta, rounds: s.rounds },
        }),
      updateRefused: (r) =>
        void siteOfParticipant(db, r.participantId).then((siteId) =>
          audit({ action: 'update.refused', actor: { label: siteId ? `site ${siteId}` : 'unknown site' }, studyId: r.studyId, siteId, target: `round ${r.round}`, detail: { code: r.code, reason: r.reason, bytes: r.bytes } }),
        ),
    },
  });

  if (cluster) {
    leases = new StudyLeases({
      url: cluster.databaseUrl,
      applicationName: `consilium:${cluster.processName}`,
      log,
      intervalMs: cluster.leaseIntervalMs,
      // A study defined on another process while this one was down or not yet told of it.
      acquired: (studyId) => loadCustomTemplates(db, log).then(() => coordinator.adopt(studyId)),
      lost: (studyId) => coordinator.relinquish(studyId),
    });
    // A tab that joined through another process may be what the study's coordinator waits for.
    (presence as SharedPresence).onRemoteChange(({ studyId, participantId, online }) => {
      if (!coordinator.leads(studyId)) return;
      if (online) void coordinator.maybeOpenRound(studyId).catch((err) => log.error({ err, studyId }, 'could not open a round'));
      else coordinator.participantLeft(studyId, participantId);
    });
  }

  let realtime: ReturnType<typeof attachRealtime> | undefined;
  const app = new Hono<AppEnv>();
  app.onError(errorHandler(log));
  app.use(
    '*',
    secureHeaders({
      xFrameOptions: 'DENY',
      // Over plain http a browser ignores HSTS, and a dev on localhost must not be pinned to https.
      strictTransportSecurity: deps.tls ? 'max-age=31536000; includeSubDomains' : false,
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        // WebAssembly (the wasm backend) needs wasm-unsafe-eval; workers are same-origin modules.
        scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
        workerSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'", 'ws:', 'wss:'],
        imgSrc: ["'self'", 'data:', 'blob:'],
        styleSrc: ["'self'", "'unsafe-inline'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
      },
    }),
  );
  app.use('/api/*', addressMiddleware(deps.trustProxyHops));
  const apiTokens = createApiTokens(db, clock);
  app.use('/api/*', principalMiddleware(sessions, apiTokens));
  // Bodies are capped first, so the rate limits below never read more than that of a login body.
  const uploadPath = '/api/studies/:id/rounds/:round/updates';
  // Secure aggregation's masked inputs are sized to the model too (their route checks twice an update's bytes).
  app.use('/api/*', defaultBodyLimit({ maxBytes: deps.maxBodyBytes, exempt: [uploadPath, '/api/studies/:id/rounds/:round/masked'] }));
  const limiters = createRateLimiters(deps.rateLimits, cluster ? { redis: cluster.redis, prefix } : undefined);
  const byAddress = (c: Context) => [`address:${requestAddress(c)}`];
  const post = ['POST'];
  app.use('/api/auth/login', rateLimit({ limiter: limiters.loginPerAddress, methods: post, keys: byAddress, message: 'too many sign-in attempts from this address' }));
  app.use('/api/auth/login', rateLimit({ limiter: limiters.loginPerEmail, methods: post, keys: async (c) => [await jsonFieldOf(c, 'email')], message: 'too many sign-in attempts for this account' }));
  app.use('/api/auth/invites/redeem', rateLimit({ limiter: limiters.inviteRedeemPerAddress, methods: post, keys: byAddress, message: 'too many invite codes tried' }));
  app.use(uploadPath, rateLimit({ limiter: limiters.uploadsPerAccount, methods: post, keys: (c) => [accountOf(c) ?? byAddress(c)[0]], message: 'too many uploads' }));
  // Chat over HTTP is reading and deleting history (asking goes over Socket.IO): every method counts.
  app.use('/api/chat/*', rateLimit({ limiter: limiters.chatPerAddress, keys: byAddress, message: 'too many chat requests' }));

  const healthDoc = doc({ tag: 'Operations', summary: 'Whether the server, its database and its storage answer', access: 'public', response: healthSchema, errors: { 503: 'The database or the storage does not answer (the same body, status degraded).' } });
  app.get('/api/health', healthDoc, async (c) => {
    const [reachable, storage] = await Promise.all([database.ping(), database.blobs.ping()]);
    // A draining process says so, and the load balancer's health check takes it out of rotation.
    if (draining) return c.json({ status: 'draining', version: SERVER_VERSION, database: { kind: database.kind, reachable }, storage: { reachable: storage }, uptimeSeconds: Math.round(process.uptime()) } satisfies Health, 503);
    const body: Health = {
      status: reachable && storage ? 'ok' : 'degraded',
      version: SERVER_VERSION,
      database: { kind: database.kind, reachable },
      storage: { reachable: storage },
      uptimeSeconds: Math.round(process.uptime()),
    };
    return c.json(body, reachable && storage ? 200 : 503);
  });
  app.route('/api/auth', authRoutes({ db, clock, sessions, audit, secureCookies: deps.secureCookies ?? false }));
  // Model bytes sent per version, for the rounds' bytes out (counted in memory by this process).
  const downloads = new ModelDownloads(clock.now());
  app.route('/api/studies', roundRoutes({ db, coordinator, maxUpdateBytes, downloads }));
  app.route('/api/studies', studyRoutes({ db, presence, downloads }));
  app.route('/api/studies', modelRoutes({ db, audit, clock, onChange: (studyId) => events.changed(studyId) }));
  app.route('/api/studies', metricSeriesRoutes({ db }));
  app.route('/api/public/studies', publicModelRoutes({ db }));
  app.route('/api/studies', studyAdminRoutes({ db, coordinator, log, audit }));
  app.route(
    '/api/sites',
    siteRoutes({ db, clock, sessions, links, audit, disconnectSite: (siteId) => realtime?.disconnectSite(siteId), disconnectLinks: (userId) => realtime?.disconnectLinks(userId) }),
  );
  app.route('/api/invites', inviteRoutes({ db, clock, audit }));
  app.route('/api/audit', auditRoutes({ db }));
  app.route('/api/templates', templateRoutes({ db, audit, onCreated: cluster ? (id) => void realtime?.io.serverSideEmit('cluster:template', id) : undefined }));
  app.route('/api/column-summaries', columnSummaryRoutes({ db, audit }));
  app.route('/api/chat', chatRoutes({ db }));
  app.route('/api/tokens', apiTokenRoutes({ apiTokens, audit }));
  app.route('/api', monitoringRoutes({ db, presence, apiTokens }));
  // Prometheus's scrape, outside /api: no rate limit, no session needed when METRICS_TOKEN is set.
  const metricsDoc = doc({
    tag: 'Operations',
    summary: 'Prometheus metrics: rounds by status, uploads, aggregation time, connected sites, socket events, process',
    access: 'metrics',
    response: { text: 'The Prometheus text exposition format, version 0.0.4.', type: 'text/plain; version=0.0.4' },
  });
  app.get('/metrics', metricsDoc, metricsHandler({ metrics, token: deps.metricsToken, sessions }));
  app.route('/api', openApiRoutes({ app, version: SERVER_VERSION }));
  app.all('/api/*', (c) => c.json(errorBody(ErrorCode.NotFound, `no route ${c.req.method} ${c.req.path}`), 404));

  const staticDir = deps.staticDir && fs.existsSync(path.join(deps.staticDir, 'index.html')) ? deps.staticDir : undefined;
  if (staticDir) {
    const root = path.relative(process.cwd(), path.resolve(staticDir)) || '.';
    app.use(
      '/assets/*',
      async (c, next) => {
        await next();
        if (c.res.status === 200) c.header('Cache-Control', 'public, max-age=31536000, immutable');
      },
      serveStatic({ root }),
    );
    app.use('*', serveStatic({ root }));
    // Client-side routes (/admin, /hospital/...) all load the SPA.
    app.get('*', serveStatic({ root, path: 'index.html' }));
  } else {
    app.get('/', (c) => c.text('Consilium API is running. Build the web app with `npm run build` to serve the pages.'));
  }

  return {
    app,
    coordinator,
    presence,
    tokens,
    sessions,
    links,
    audit,
    metrics,
    get io() {
      return realtime?.io;
    },
    async attach(server) {
      const adapter = cluster
        ? (await import('@socket.io/redis-streams-adapter')).createAdapter(
            // Its own connection: the adapter blocks on stream reads.
            cluster.redis.duplicate(),
            { streamName: `${prefix}socket.io`, channelPrefix: `${prefix}socket.io`, sessionKeyPrefix: `${prefix}sio:session:` },
          )
        : undefined;
      realtime = attachRealtime(server, {
        db,
        sessions,
        presence,
        coordinator,
        clock,
        log,
        eventBudget: deps.eventBudget,
        metrics,
        logHub: deps.logHub,
        cluster: cluster && adapter ? { adapter, redis: cluster.redis, prefix } : undefined,
      });
      // The patient chat's own namespace, open to anonymous patients; a signed-in patient's chats are kept.
      attachChat(realtime.io, {
        db,
        clock,
        log,
        config: deps.chat,
        identify: async (h) => {
          const cookie = parseCookies(h.headers.cookie ?? '', SESSION_COOKIE)[SESSION_COOKIE];
          if (!cookie || !sameOrigin(h.headers.origin, h.headers.host)) return null;
          const p = await sessions.authenticate(cookie);
          return p?.kind === 'patient' ? { userId: p.userId } : null;
        },
        addressOf: (h) => clientAddress(h.address, h.headers['x-forwarded-for'] as string | undefined, deps.trustProxyHops ?? 0),
        burstLimit: (keys) => consume(limiters.chatPerAddress, keys),
      });
      const io = realtime.io;
      events = {
        roundOpened: (ids, round, own) => {
          for (const id of ids) io.to(rooms.participant(id)).emit('round:open', own ? own(id) : round);
        },
        roundClosed: (studyId, closed) => io.to(rooms.study(studyId)).emit('round:closed', closed),
        changed: (studyId) => realtime?.notifyChanged(studyId),
        toParticipant: (id, event, payload) => void (io.to(rooms.participant(id)) as unknown as { emit(e: string, p: unknown): void }).emit(event, payload),
      };
      if (cluster) io.on('cluster:template', (id) => void loadCustomTemplates(db, log).catch((err) => log.error({ err, templateId: id }, 'could not load a new custom template')));
      if (leases) await leases.start();
      else await coordinator.recover();
    },
    leads: (studyId) => coordinator.leads(studyId),
    async drain() {
      if (draining) return;
      draining = true;
      log.info({ studies: leases?.studies() ?? [] }, 'draining: handing the studies over and letting the tabs go');
      await leases?.release();
      // Cut at the transport, not with a server disconnect: the tabs treat that as a lost connection and reconnect.
      if (realtime) for (const socket of realtime.io.of('/').sockets.values()) socket.conn.close();
    },
    async close() {
      await leases?.stop();
      coordinator.stop();
      await coordinator.settle();
      await realtime?.close();
      if (presence instanceof SharedPresence) await presence.close();
    },
  };
}
