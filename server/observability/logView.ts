import { eq } from 'drizzle-orm';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { LogBacklog, LogLine, LogLineEvent, LogSubscription } from '../../shared/protocol/logView';
import type { Principal } from '../auth/tokens';
import type { Db } from '../db/client';
import { participants, studies } from '../db/schema';
import { passes, type LogFilter, type LogHub } from './logHub';

/** What the log view needs of a Socket.IO socket. */
export interface LogViewSocket {
  id: string;
  readonly connected: boolean;
  emit(event: 'log:line', e: LogLineEvent): unknown;
  once(event: 'disconnect', fn: () => void): unknown;
}

export interface LogViewDeps {
  db: Db;
  hub: LogHub;
  /** Subscriptions one connection may hold at once (default 4: a dashboard and the server's view, twice over). */
  maxPerSocket?: number;
}

/**
 * Who may read which log. A study's log names its sites and rounds; the whole server's names every
 * study's and the lines of none (sign-ins failing, the server's errors). Both are for platform
 * admins, the only admins there are today; a study-scoped admin role would get the first only.
 */
export function mayReadLog(principal: Principal, studyId: string | null): boolean {
  void studyId;
  return principal.kind === 'admin';
}

interface Subscription {
  stop(): void;
}

const MAX_CACHED_PARTICIPANTS = 50_000;

/**
 * The admin console's live server log over Socket.IO: a subscription gets the kept lines that pass
 * its filters (study, level, site) at once, then each new one as `log:line`, in order.
 */
export function createLogView(deps: LogViewDeps) {
  const { db, hub } = deps;
  const maxPerSocket = deps.maxPerSocket ?? 4;
  const bySocket = new Map<string, Map<string, Subscription>>();
  // Lines name a participant (a site's place in one study) more often than the site itself.
  const siteOfParticipant = new Map<string, Promise<string | null>>();

  function siteOf(participantId: string): Promise<string | null> {
    let site = siteOfParticipant.get(participantId);
    if (!site) {
      if (siteOfParticipant.size >= MAX_CACHED_PARTICIPANTS) siteOfParticipant.clear();
      site = db
        .select({ siteId: participants.siteId })
        .from(participants)
        .where(eq(participants.id, participantId))
        .then(([row]) => row?.siteId ?? null);
      // A failed look-up is tried again next time; until then the line has no site.
      site = site.catch(() => {
        siteOfParticipant.delete(participantId);
        return null;
      });
      siteOfParticipant.set(participantId, site);
    }
    return site;
  }

  async function withSite(line: LogLine): Promise<LogLine> {
    const participantId = line.fields.participantId;
    if (line.siteId || typeof participantId !== 'string') return line;
    const siteId = await siteOf(participantId);
    return siteId ? { ...line, siteId } : line;
  }

  function subscriptionsOf(socket: LogViewSocket) {
    let subs = bySocket.get(socket.id);
    if (!subs) {
      const mine = new Map<string, Subscription>();
      bySocket.set(socket.id, mine);
      socket.once('disconnect', () => {
        for (const s of mine.values()) s.stop();
        bySocket.delete(socket.id);
      });
      subs = mine;
    }
    return subs;
  }

  return {
    async subscribe(socket: LogViewSocket, principal: Principal, req: LogSubscription): Promise<LogBacklog> {
      if (!mayReadLog(principal, req.studyId))
        throw new ConsiliumError(ErrorCode.Forbidden, req.studyId ? 'only the study’s admins may read its log' : 'only platform admins may read the whole server’s log', 403);
      if (req.studyId) {
        const [study] = await db.select({ id: studies.id }).from(studies).where(eq(studies.id, req.studyId));
        if (!study) throw new ConsiliumError(ErrorCode.NotFound, `no study ${req.studyId}`, 404);
      }
      // A socket that left while the study was looked up would never say so again: nothing to hold for it.
      if (!socket.connected) return { lines: [], keptMs: hub.maxAgeMs };
      const subs = subscriptionsOf(socket);
      subs.get(req.subscription)?.stop();
      subs.delete(req.subscription);
      if (subs.size >= maxPerSocket) throw new ConsiliumError(ErrorCode.BadRequest, `at most ${maxPerSocket} log views per connection: close one first`, 400);

      const filter: LogFilter = { studyId: req.studyId ?? undefined, minLevel: req.minLevel };
      const ofSite = (line: LogLine) => !req.siteId || line.siteId === req.siteId;
      // The kept lines and the live ones meet without a gap or a repeat: both are taken in this one turn.
      const kept = hub.recent(filter);
      const backlog = Promise.all(kept.map(withSite));
      let stopped = false;
      let queue: Promise<unknown> = backlog.catch(() => undefined);
      const unsubscribe = hub.subscribe((line) => {
        if (!passes(line, filter)) return;
        // Live lines go out after the kept ones, each after the one before (a site look-up may wait on the database).
        queue = queue.then(async () => {
          const sited = await withSite(line);
          if (!stopped && ofSite(sited)) socket.emit('log:line', { subscription: req.subscription, line: sited });
        }).catch(() => undefined);
      });
      subs.set(req.subscription, {
        stop() {
          stopped = true;
          unsubscribe();
        },
      });
      const lines = (await backlog).filter(ofSite);
      return { lines: lines.slice(Math.max(0, lines.length - req.limit)), keptMs: hub.maxAgeMs };
    },

    /** Ends one of this socket's subscriptions; ending one that is not there is not an error. */
    unsubscribe(socket: LogViewSocket, subscription: string): null {
      const subs = bySocket.get(socket.id);
      subs?.get(subscription)?.stop();
      subs?.delete(subscription);
      return null;
    },

    /** Live subscriptions, over every socket (for tests). */
    get subscriptions(): number {
      let n = 0;
      for (const s of bySocket.values()) n += s.size;
      return n;
    },
  };
}

export type LogView = ReturnType<typeof createLogView>;
