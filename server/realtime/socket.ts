import { eq } from 'drizzle-orm';
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import { z } from 'zod';
import { parse as parseCookies } from 'hono/utils/cookie';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { AckFn, ClientToServerEvents, InterServerEvents, ServerToClientEvents } from '../../shared/protocol/events';
import { evaluationReportSchema, joinRequestSchema, progressReportSchema, statisticsReportSchema, studyIdSchema } from '../../shared/protocol/schemas';
import { advertiseSchema, revealSchema, shareKeysSchema } from '../../shared/protocol/secagg';
import { logSubscribeSchema, logUnsubscribeSchema } from '../../shared/protocol/logView';
import type { Sessions } from '../auth/sessions';
import { SESSION_COOKIE, type Principal } from '../auth/tokens';
import type { Clock } from '../clock';
import type { Db } from '../db/client';
import { participants, sites } from '../db/schema';
import type { RealtimeMetrics } from '../observability/metrics';
import { LogHub } from '../observability/logHub';
import { createLogView } from '../observability/logView';
import type { Coordinator } from '../rounds/coordinator';
import type { ClusterAsk } from '../rounds/types';
import { buildDashboard } from '../studies/dashboard';
import { findParticipant, getStudySummary } from '../studies/service';
import { accountKey, EventBudget, Verdict, type EventBudgetOptions } from './eventBudget';
import type { Presence } from './presence';

const watchRequestSchema = z.object({ studyId: studyIdSchema });

interface SocketData {
  principal: Principal;
  /** studyId → participantId, for the studies this hospital socket joined. */
  joined: Record<string, string>;
}

export type ConsiliumServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type ConsiliumSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export const rooms = {
  participant: (id: string) => `participant:${id}`,
  study: (id: string) => `study:${id}`,
  admins: (studyId: string) => `admins:${studyId}`,
};

/**
 * Who may send each client event. Checked before the payload is read; the authorisation matrix test
 * walks this map and the events the server registers, so an event without a rule fails it.
 */
export const eventRoles = {
  'hospital:join': ['hospital'],
  'hospital:progress': ['hospital'],
  'hospital:evaluation': ['hospital'],
  'hospital:statistics': ['hospital'],
  'admin:watch': ['admin'],
  'admin:log:subscribe': ['admin'],
  'admin:log:unsubscribe': ['admin'],
  'secagg:advertise': ['hospital'],
  'secagg:shares': ['hospital'],
  'secagg:reveal': ['hospital'],
} as const satisfies Record<keyof ClientToServerEvents, readonly Principal['kind'][]>;

const ROLE_TEXT: Record<Principal['kind'], string> = { admin: 'platform admins', hospital: 'hospitals', patient: 'patients' };

/**
 * Wrap a handler so its payload is checked with zod and its result (or error) always reaches the
 * client through the ack; a client that sends no ack callback is ignored (its event has already
 * spent its budget: see the connection's `socket.use`).
 */
function handler<S extends z.ZodTypeAny, T>(
  log: Logger,
  allowed: { event: keyof ClientToServerEvents; principal: Principal },
  schema: S,
  fn: (data: z.infer<S>) => Promise<T>,
) {
  return async (raw: unknown, ack: AckFn<T>) => {
    if (typeof ack !== 'function') return;
    const roles: readonly Principal['kind'][] = eventRoles[allowed.event];
    if (!roles.includes(allowed.principal.kind)) {
      ack({ ok: false, error: { code: ErrorCode.Forbidden, message: `${roles.map((r) => ROLE_TEXT[r]).join(' and ')} only` } });
      return;
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      ack({ ok: false, error: { code: ErrorCode.BadRequest, message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
      return;
    }
    try {
      ack({ ok: true, data: await fn(parsed.data) });
    } catch (err) {
      if (err instanceof ConsiliumError) ack({ ok: false, error: err.toJSON() });
      else {
        log.error({ err }, 'socket handler failed');
        ack({ ok: false, error: { code: ErrorCode.Internal, message: 'internal server error' } });
      }
    }
  };
}

/**
 * Disconnects a flooding socket and stops reading from it at once. A WebSocket closes with a
 * handshake: until the client answers it (a flooder need not, for up to 30 s), ws would go on parsing
 * every frame the client queued or still sends, only for engine.io to drop them. What was answered
 * before (acks, the disconnect packet) is still written; the connection is cut a second later.
 */
function cutOff(socket: ConsiliumSocket) {
  const ws = (socket.conn.transport as unknown as { socket?: { pause?: () => void; terminate?: () => void } }).socket;
  socket.disconnect(true);
  if (typeof ws?.pause !== 'function' || typeof ws.terminate !== 'function') return;
  ws.pause();
  const terminate = ws.terminate.bind(ws);
  setTimeout(terminate, 1_000).unref();
}

export interface RealtimeDeps {
  db: Db;
  sessions: Pick<Sessions, 'check'>;
  presence: Presence;
  coordinator: Coordinator;
  clock: Clock;
  log: Logger;
  /** Limits on the events one connection and one account may send; defaults in ./eventBudget.ts. */
  eventBudget?: Partial<EventBudgetOptions>;
  /** The server's kept log, for the admins' live view (../observability/logHub.ts); an empty one when omitted. */
  logHub?: LogHub;
  /** Counts received events by name (../observability/metrics.ts); none when omitted. */
  metrics?: RealtimeMetrics;
  /**
   * One of several processes (../cluster/): the Socket.IO adapter that carries every room's events to
   * every process, and the Redis that shares the accounts' event budgets. Omitted: this process alone.
   */
  cluster?: { adapter: ServerOptions['adapter']; redis: Redis; prefix: string };
}

/**
 * Whether a handshake may use the session cookie. Browsers send Origin on every WebSocket handshake
 * and every cross-origin request, but not on a same-origin GET (Socket.IO's first polling request),
 * so only an Origin that names another host is refused.
 */
export function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (!origin) return true;
  if (!host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

export function attachRealtime(httpServer: HttpServer, deps: RealtimeDeps) {
  const { db, sessions, presence, coordinator, clock, log } = deps;
  const cluster = deps.cluster;
  const budgets = new EventBudget(
    clock,
    deps.eventBudget,
    cluster ? { redis: cluster.redis, prefix: cluster.prefix, onError: (err) => log.warn({ err }, 'shared event budget unavailable: per-process budgets only') } : undefined,
  );
  const logView = createLogView({ db, hub: deps.logHub ?? new LogHub() });
  const io: ConsiliumServer = new Server(httpServer, {
    serveClient: false,
    // Control messages only: weights travel over HTTP.
    maxHttpBufferSize: 64 * 1024,
    // Several processes: a tab whose process drained or died reconnects to another and is sent what
    // it missed meanwhile (the adapter keeps the sessions in Redis).
    ...(cluster ? { adapter: cluster.adapter, connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000 } } : {}),
  });
  if (cluster) {
    io.on('cluster:poke', (p) => coordinator.poked(p.studyId));
    io.on('cluster:changed', (studyId) => notifyChanged(studyId, true));
    // Only the study's coordinator answers; the others answer null.
    io.on('cluster:ask', (q, reply) => {
      coordinator.answer(q as unknown as ClusterAsk).then(
        (a) => reply(a ? { ok: true, value: a.value } : null),
        (err) => reply({ ok: false, error: err instanceof ConsiliumError ? { code: err.code, message: err.message, status: err.status } : { code: ErrorCode.Internal, message: 'internal server error', status: 500 } }),
      );
    });
  }

  io.use(async (socket, next) => {
    const auth = socket.handshake.auth as { token?: unknown };
    const bearer = typeof auth?.token === 'string' ? auth.token : undefined;
    const cookie = bearer ? undefined : parseCookies(socket.handshake.headers.cookie ?? '', SESSION_COOKIE)[SESSION_COOKIE];
    // A cookie rides along on any page's WebSocket: only this origin's pages may use it (no cross-site hijacking).
    if (cookie && !sameOrigin(socket.handshake.headers.origin, socket.handshake.headers.host)) return next(new Error(ErrorCode.Forbidden));
    const token = bearer ?? cookie;
    const { principal, refusal } = token ? await sessions.check(token) : { principal: null, refusal: null };
    if (!principal) {
      // The page shows why its link is refused (expired, revoked…); the error itself stays the code.
      const err = new Error(ErrorCode.Unauthenticated) as Error & { data?: { message: string } };
      if (refusal && bearer) err.data = { message: refusal };
      return next(err);
    }
    socket.data.principal = principal;
    socket.data.joined = {};
    next();
  });

  io.on('connection', (socket: ConsiliumSocket) => {
    const principal = socket.data.principal;
    if (principal.kind === 'hospital' && principal.linkExpiresAt !== undefined) disconnectAt(socket, principal.linkExpiresAt);
    // Every incoming event, known or not, with an ack or without, pays before anything reads it.
    const budget = budgets.open(accountKey(principal));
    socket.use((packet, next) => {
      if (!socket.connected) return;
      // The event name is the client's: counted under its own name only if it is one of ours.
      deps.metrics?.socketEvent(Object.hasOwn(eventRoles, packet[0]) ? (packet[0] as keyof typeof eventRoles) : 'unknown');
      const verdict = budget.spend(packet[0]);
      if (verdict === Verdict.Allowed) return next();
      const ack: unknown = packet[packet.length - 1];
      if (typeof ack === 'function')
        (ack as AckFn<never>)({ ok: false, error: { code: ErrorCode.RateLimited, message: `too many events from this connection or account: try again in ${budget.retryAfterSeconds} s` } });
      if (verdict === Verdict.Disconnect) {
        // The event name is the client's: logged only if it is one of ours.
        const event = Object.hasOwn(eventRoles, packet[0]) ? packet[0] : 'unknown';
        log.warn({ account: budget.key, event }, 'disconnected a socket that kept sending events past its budget');
        cutOff(socket);
      }
    });
    /** The participant this socket joined the study as; reports for other studies are refused. */
    const joinedAs = (studyId: string) => {
      const participantId = socket.data.joined[studyId];
      if (!participantId) throw new ConsiliumError(ErrorCode.Forbidden, 'join the study first', 403);
      return participantId;
    };

    socket.on(
      'hospital:join',
      handler(log, { event: 'hospital:join', principal }, joinRequestSchema, async (req) => {
        if (principal.kind !== 'hospital') throw new ConsiliumError(ErrorCode.Forbidden, 'hospitals only', 403); // narrows the type
        const participant = await findParticipant(db, req.studyId, principal.siteId);
        if (!participant) throw new ConsiliumError(ErrorCode.Forbidden, 'this hospital is not enrolled in that study', 403);
        const [site] = await db.select().from(sites).where(eq(sites.id, principal.siteId));
        await db
          .update(participants)
          .set({
            joinedAt: participant.joinedAt ?? new Date(clock.now()),
            lastSeenAt: new Date(clock.now()),
            ...(req.numSamples !== undefined ? { numSamples: req.numSamples } : {}),
            ...(req.backend ? { lastBackend: req.backend } : {}),
            ...(req.datasetFingerprint ? { datasetFingerprint: req.datasetFingerprint } : {}),
          })
          .where(eq(participants.id, participant.id));
        if (req.numSamples !== undefined) coordinator.recordsReported(req.studyId, participant.id, participant.numSamples, req.numSamples);
        socket.data.joined[req.studyId] = participant.id;
        const entry = presence.connect(participant.id, req.studyId, principal.siteId, socket.id);
        if (req.backend) entry.backend = req.backend;
        await socket.join([rooms.participant(participant.id), rooms.study(req.studyId)]);
        const result = {
          participantId: participant.id,
          site: { id: site.id, name: site.name },
          study: await getStudySummary(db, req.studyId),
          openRound: await coordinator.pendingRoundFor(req.studyId, participant.id),
          statisticsNeeded: await coordinator.statisticsNeeded(req.studyId, participant.id),
        };
        log.info({ studyId: req.studyId, siteId: site.id, site: site.name }, 'hospital joined');
        queueMicrotask(() => {
          notifyChanged(req.studyId);
          void coordinator.maybeOpenRound(req.studyId).catch((err) => log.error({ err }, 'could not open a round'));
        });
        return result;
      }),
    );

    socket.on(
      'hospital:progress',
      handler(log, { event: 'hospital:progress', principal }, progressReportSchema, async (report) => {
        presence.report(joinedAs(report.studyId), report);
        notifyChanged(report.studyId);
        return null;
      }),
    );

    socket.on(
      'hospital:evaluation',
      handler(log, { event: 'hospital:evaluation', principal }, evaluationReportSchema, async (report) => {
        await coordinator.recordEvaluation(joinedAs(report.studyId), report);
        return null;
      }),
    );

    socket.on(
      'hospital:statistics',
      handler(log, { event: 'hospital:statistics', principal }, statisticsReportSchema, (report) =>
        coordinator.recordStatistics(report.studyId, joinedAs(report.studyId), report.statistics, report.datasetFingerprint ?? null),
      ),
    );

    socket.on(
      'admin:watch',
      handler(log, { event: 'admin:watch', principal }, watchRequestSchema, async ({ studyId }) => {
        if (principal.kind !== 'admin') throw new ConsiliumError(ErrorCode.Forbidden, 'platform admins only', 403);
        const dashboard = await buildDashboard(db, presence, studyId);
        await socket.join(rooms.admins(studyId));
        return dashboard;
      }),
    );
    socket.on('admin:log:subscribe', handler(log, { event: 'admin:log:subscribe', principal }, logSubscribeSchema, (req) => logView.subscribe(socket, principal, req)));
    socket.on('admin:log:unsubscribe', handler(log, { event: 'admin:log:unsubscribe', principal }, logUnsubscribeSchema, async (req) => logView.unsubscribe(socket, req.subscription)));

    // Secure aggregation's steps: small messages; the masked input itself comes over HTTP.
    socket.on(
      'secagg:advertise',
      handler(log, { event: 'secagg:advertise', principal }, advertiseSchema, async (req) => {
        await coordinator.secureAdvertise(joinedAs(req.studyId), req);
        return null;
      }),
    );
    socket.on(
      'secagg:shares',
      handler(log, { event: 'secagg:shares', principal }, shareKeysSchema, async (req) => {
        await coordinator.secureShares(joinedAs(req.studyId), req);
        return null;
      }),
    );
    socket.on(
      'secagg:reveal',
      handler(log, { event: 'secagg:reveal', principal }, revealSchema, async (req) => {
        await coordinator.secureReveal(joinedAs(req.studyId), req);
        return null;
      }),
    );

    socket.on('disconnect', () => {
      budget.close();
      for (const gone of presence.disconnect(socket.id)) {
        notifyChanged(gone.studyId);
        // Gone from this process; the study waits for it no longer only if it is gone from every one.
        if (!presence.isOnline(gone.participantId)) coordinator.participantLeft(gone.studyId, gone.participantId);
      }
    });
  });

  /*
   * Dashboards are rebuilt at most every 250 ms per study, however chatty the tabs are. Each process
   * builds them for its own admins only; with several processes, a change seen here is passed on to
   * the others (at the same pace), which build theirs.
   */
  const pending = new Map<string, NodeJS.Timeout>();
  const passOn = new Set<string>();
  function notifyChanged(studyId: string, fromPeer = false) {
    if (cluster && !fromPeer) passOn.add(studyId);
    if (pending.has(studyId)) return;
    const t = setTimeout(async () => {
      pending.delete(studyId);
      if (passOn.delete(studyId)) io.serverSideEmit('cluster:changed', studyId);
      if ((io.sockets.adapter.rooms.get(rooms.admins(studyId))?.size ?? 0) === 0) return;
      try {
        io.local.to(rooms.admins(studyId)).emit('dashboard', await buildDashboard(db, presence, studyId));
      } catch (err) {
        log.warn({ err, studyId }, 'could not send the dashboard');
      }
    }, 250);
    t.unref?.();
    pending.set(studyId, t);
  }

  /** A suspended site's tabs are disconnected at once; they cannot sign back in. */
  function disconnectSite(siteId: string) {
    for (const socket of io.of('/').sockets.values()) {
      const p = socket.data.principal;
      if (p?.kind === 'hospital' && p.siteId === siteId) socket.disconnect(true);
    }
  }

  /** The tabs that came with an account's sign-in link, once it is revoked or re-issued; password sessions stay. */
  function disconnectLinks(userId: string) {
    for (const socket of io.of('/').sockets.values()) {
      const p = socket.data.principal;
      if (p?.kind === 'hospital' && p.userId === userId && p.linkExpiresAt !== undefined) socket.disconnect(true);
    }
  }

  /** A tab that came with a sign-in link is let go when the link expires, as its next connection would be refused. */
  function disconnectAt(socket: ConsiliumSocket, at: number) {
    const wait = () => {
      const ms = at - clock.now();
      if (ms <= 0) return void socket.disconnect(true);
      // setTimeout holds at most 2^31 - 1 ms (24.8 days); a longer wait is taken in steps.
      const timer = setTimeout(wait, Math.min(ms, 2 ** 31 - 1));
      timer.unref?.();
      socket.once('disconnect', () => clearTimeout(timer));
    };
    wait();
  }

  return {
    io,
    notifyChanged,
    disconnectSite,
    disconnectLinks,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of pending.values()) clearTimeout(t);
        io.close(() => resolve());
      }),
  };
}
