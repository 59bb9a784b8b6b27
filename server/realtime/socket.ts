import { eq } from 'drizzle-orm';
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import { parse as parseCookies } from 'hono/utils/cookie';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { AckFn, ClientToServerEvents, InterServerEvents, ServerToClientEvents } from '../../shared/protocol/events';
import { evaluationReportSchema, joinRequestSchema, progressReportSchema, statisticsReportSchema, studyIdSchema } from '../../shared/protocol/schemas';
import type { Sessions } from '../auth/sessions';
import { SESSION_COOKIE, type Principal } from '../auth/tokens';
import type { Clock } from '../clock';
import type { Db } from '../db/client';
import { participants, sites } from '../db/schema';
import type { Coordinator } from '../rounds/coordinator';
import { buildDashboard } from '../studies/dashboard';
import { findParticipant, getStudySummary } from '../studies/service';
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
 * Wrap a handler so its payload is checked with zod and its result (or error) always reaches the
 * client through the ack; a client that sends no ack callback is ignored.
 */
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
} as const satisfies Record<keyof ClientToServerEvents, readonly Principal['kind'][]>;

const ROLE_TEXT: Record<Principal['kind'], string> = { admin: 'platform admins', hospital: 'hospitals', patient: 'patients' };

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

export interface RealtimeDeps {
  db: Db;
  sessions: Pick<Sessions, 'authenticate'>;
  presence: Presence;
  coordinator: Coordinator;
  clock: Clock;
  log: Logger;
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
  const io: ConsiliumServer = new Server(httpServer, {
    serveClient: false,
    // Control messages only: weights travel over HTTP.
    maxHttpBufferSize: 64 * 1024,
  });

  io.use(async (socket, next) => {
    const auth = socket.handshake.auth as { token?: unknown };
    const bearer = typeof auth?.token === 'string' ? auth.token : undefined;
    const cookie = bearer ? undefined : parseCookies(socket.handshake.headers.cookie ?? '', SESSION_COOKIE)[SESSION_COOKIE];
    // A cookie rides along on any page's WebSocket: only this origin's pages may use it (no cross-site hijacking).
    if (cookie && !sameOrigin(socket.handshake.headers.origin, socket.handshake.headers.host)) return next(new Error(ErrorCode.Forbidden));
    const token = bearer ?? cookie;
    const principal = token ? await sessions.authenticate(token) : null;
    if (!principal) return next(new Error(ErrorCode.Unauthenticated));
    socket.data.principal = principal;
    socket.data.joined = {};
    next();
  });

  io.on('connection', (socket: ConsiliumSocket) => {
    const principal = socket.data.principal;
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
        log.info({ studyId: req.studyId, site: site.name }, 'hospital joined');
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
        coordinator.recordStatistics(report.studyId, joinedAs(report.studyId), report.statistics),
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

    socket.on('disconnect', () => {
      for (const gone of presence.disconnect(socket.id)) notifyChanged(gone.studyId);
    });
  });

  // Dashboards are rebuilt at most every 250 ms per study, however chatty the tabs are.
  const pending = new Map<string, NodeJS.Timeout>();
  function notifyChanged(studyId: string) {
    if (pending.has(studyId)) return;
    const t = setTimeout(async () => {
      pending.delete(studyId);
      if ((io.sockets.adapter.rooms.get(rooms.admins(studyId))?.size ?? 0) === 0) return;
      try {
        io.to(rooms.admins(studyId)).emit('dashboard', await buildDashboard(db, presence, studyId));
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

  return {
    io,
    notifyChanged,
    disconnectSite,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of pending.values()) clearTimeout(t);
        io.close(() => resolve());
      }),
  };
}
