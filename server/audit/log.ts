import { and, desc, eq, gte, ilike, lt, lte, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import { auditQuerySchema, type AuditPage, type AuditQuery } from '../../shared/protocol/accounts';
import type { Db } from '../db/client';
import { auditEvents } from '../db/schema';
import type { Principal } from '../auth/tokens';

/** The actions the audit log records; a free-form string in the table, a closed list here. */
export type AuditAction =
  | 'auth.sign_in'
  | 'auth.sign_in_failed'
  | 'auth.sign_out'
  | 'auth.password_reset'
  | 'invite.created'
  | 'invite.revoked'
  | 'link.reissued'
  | 'link.revoked'
  | 'enrolment.redeemed'
  | 'enrolment.refused'
  | 'site.created'
  | 'site.suspended'
  | 'site.reinstated'
  | 'site.records_reported'
  | 'study.privacy_budget_spent'
  | 'evaluation.flagged'
  | 'evaluation.included'
  | 'study.created'
  | 'study.config_changed'
  | 'study.paused'
  | 'study.resumed'
  | 'study.stopped'
  | 'study.restarted'
  | 'round.opened'
  | 'round.closed'
  | 'update.refused'
  | 'model.approved'
  | 'model.exported'
  | 'api_token.created'
  | 'api_token.revoked'
  | 'template.created'
  | 'columns.summarised';

export interface AuditEntry {
  action: AuditAction;
  /** Who acted: a principal, or a plain label ("system", an email that failed to sign in). */
  actor: Principal | { label: string; userId?: string | null } | null;
  target?: string | null;
  studyId?: string | null;
  siteId?: string | null;
  address?: string | null;
  detail?: Record<string, unknown>;
}

function actorOf(actor: AuditEntry['actor']): { actorId: string | null; actor: string } {
  if (!actor) return { actorId: null, actor: 'system' };
  if ('label' in actor) return { actorId: actor.userId ?? null, actor: actor.label };
  if (actor.kind === 'hospital') return { actorId: actor.userId, actor: actor.email ?? `site ${actor.siteId}` };
  return { actorId: actor.userId, actor: actor.email };
}

export type Audit = (entry: AuditEntry) => Promise<void>;

/**
 * Append one event. The table refuses updates and deletes (a trigger); nothing in the API edits it.
 * An audit write that fails is logged and does not undo what was done.
 */
export function createAudit(db: Db, log?: Logger): Audit {
  return async (e) => {
    try {
      await db.insert(auditEvents).values({
        ...actorOf(e.actor),
        action: e.action,
        target: e.target ?? null,
        studyId: e.studyId ?? null,
        siteId: e.siteId ?? (e.actor && 'kind' in e.actor && e.actor.kind === 'hospital' ? e.actor.siteId : null),
        address: e.address ?? null,
        detail: e.detail ?? null,
      });
    } catch (err) {
      log?.error({ err, action: e.action }, 'could not write the audit event');
    }
  };
}

/** Newest first, filtered, one page at a time. */
export async function queryAudit(db: Db, query: AuditQuery): Promise<AuditPage> {
  const q = auditQuerySchema.parse(query);
  const where: SQL[] = [];
  if (q.action) where.push(q.action.endsWith('.') || !q.action.includes('.') ? ilike(auditEvents.action, `${q.action.replace(/\.$/, '')}.%`) : eq(auditEvents.action, q.action));
  if (q.actor) where.push(ilike(auditEvents.actor, `%${q.actor.replace(/[%_\\]/g, (m) => `\\${m}`)}%`));
  if (q.studyId) where.push(eq(auditEvents.studyId, q.studyId));
  if (q.siteId) where.push(eq(auditEvents.siteId, q.siteId));
  if (q.since) where.push(gte(auditEvents.at, new Date(q.since)));
  if (q.until) where.push(lte(auditEvents.at, new Date(q.until)));
  if (q.before) where.push(lt(auditEvents.id, q.before));
  const rows = await db
    .select()
    .from(auditEvents)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(auditEvents.id))
    .limit(q.limit + 1);
  const page = rows.slice(0, q.limit);
  return {
    events: page.map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      actor: r.actor,
      action: r.action,
      target: r.target,
      studyId: r.studyId,
      siteId: r.siteId,
      address: r.address,
      detail: r.detail ?? null,
    })),
    next: rows.length > q.limit ? page[page.length - 1].id : null,
  };
}
