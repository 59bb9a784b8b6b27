import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Server as HttpServer } from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { ErrorCode } from '../shared/protocol/errors';
import type { Health } from '../shared/protocol/schemas';
import { parameterCount, templates } from '../shared/tasks';
import { authRoutes } from './auth/routes';
import { loadSigningKey } from './auth/secret';
import { createTokens, type Tokens } from './auth/tokens';
import { systemClock, type Clock } from './clock';
import type { Database } from './db/client';
import { errorBody, errorHandler } from './http/errors';
import { principalMiddleware, type AppEnv } from './http/principal';
import { Presence } from './realtime/presence';
import { attachRealtime, rooms } from './realtime/socket';
import { Coordinator, type CoordinatorEvents } from './rounds/coordinator';
import { roundRoutes } from './rounds/routes';
import { studyRoutes } from './studies/routes';
import { modelRoutes } from './models/routes';
import { publicModelRoutes } from './models/publicRoutes';
import { siteRoutes, studyAdminRoutes, templateRoutes } from './studies/adminRoutes';

export const SERVER_VERSION = '0.1.0';

export interface AppDeps {
  database: Database;
  clock?: Clock;
  logger?: Logger;
  /** Folder of the built SPA; omitted or missing means API only. */
  staticDir?: string;
  /** Set Secure on cookies (behind TLS). */
  secureCookies?: boolean;
}

export interface ConsiliumApp {
  app: Hono<AppEnv>;
  coordinator: Coordinator;
  presence: Presence;
  tokens: Tokens;
  /** Attach Socket.IO to the HTTP server and resume any rounds left open. */
  attach(server: HttpServer): Promise<void>;
  close(): Promise<void>;
}

/** Build the whole server from its dependencies, so tests run it on a fresh PGlite or PostgreSQL alike. */
export async function createApp(deps: AppDeps): Promise<ConsiliumApp> {
  const { database } = deps;
  const db = database.db;
  const clock = deps.clock ?? systemClock;
  const log = deps.logger ?? pino({ level: 'silent' });
  const tokens = createTokens(await loadSigningKey(db));
  const presence = new Presence();

  // The coordinator talks to sockets that exist only once attached; until then its events go nowhere.
  let events: CoordinatorEvents = { roundOpened() {}, roundClosed() {}, changed() {} };
  const coordinator = new Coordinator({
    db,
    clock,
    presence,
    log,
    events: {
      roundOpened: (ids, round) => events.roundOpened(ids, round),
      roundClosed: (studyId, closed) => events.roundClosed(studyId, closed),
      changed: (studyId) => events.changed(studyId),
    },
  });

  const largestModel = Math.max(...Object.values(templates).map((t) => parameterCount(t.model)));
  const maxUpdateBytes = largestModel * 4 + 256 * 1024;

  const app = new Hono<AppEnv>();
  app.onError(errorHandler(log));
  app.use(
    '*',
    secureHeaders({
      xFrameOptions: 'DENY',
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
  app.use('/api/*', principalMiddleware(tokens));

  app.get('/api/health', async (c) => {
    const reachable = await database.ping();
    const body: Health = {
      status: reachable ? 'ok' : 'degraded',
      version: SERVER_VERSION,
      database: { kind: database.kind, reachable },
      uptimeSeconds: Math.round(process.uptime()),
    };
    return c.json(body, reachable ? 200 : 503);
  });
  app.route('/api/auth', authRoutes({ db, tokens, secureCookies: deps.secureCookies ?? false }));
  app.route('/api/studies', roundRoutes({ db, coordinator, maxUpdateBytes }));
  app.route('/api/studies', studyRoutes({ db, presence }));
  app.route('/api/studies', modelRoutes({ db }));
  app.route('/api/public/studies', publicModelRoutes({ db }));
  app.route('/api/studies', studyAdminRoutes({ db, coordinator, log }));
  app.route('/api/sites', siteRoutes({ db }));
  app.route('/api/templates', templateRoutes());
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

  let realtime: ReturnType<typeof attachRealtime> | undefined;
  return {
    app,
    coordinator,
    presence,
    tokens,
    async attach(server) {
      realtime = attachRealtime(server, { db, tokens, presence, coordinator, clock, log });
      const io = realtime.io;
      events = {
        roundOpened: (ids, round) => {
          for (const id of ids) io.to(rooms.participant(id)).emit('round:open', round);
        },
        roundClosed: (studyId, closed) => io.to(rooms.study(studyId)).emit('round:closed', closed),
        changed: (studyId) => realtime?.notifyChanged(studyId),
      };
      await coordinator.recover();
    },
    async close() {
      coordinator.stop();
      await coordinator.settle();
      await realtime?.close();
    },
  };
}
