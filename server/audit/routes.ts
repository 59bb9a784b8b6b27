import { Hono } from 'hono';
import { auditQuerySchema } from '../../shared/protocol/accounts';
import type { Db } from '../db/client';
import { queryParams } from '../http/params';
import { requireAdmin, type AppEnv } from '../http/principal';
import { doc } from '../openapi/describe';
import { queryAudit } from './log';

/** `GET /api/audit`: the audit log, newest first, for platform admins. There is no route that edits it. */
export function auditRoutes(deps: { db: Db }) {
  const auditDoc = doc({ tag: 'Audit', summary: 'The audit log, newest first, filtered', access: 'admin', query: auditQuerySchema, response: 'A page of events and the `before` of the next, older page (AuditPage).' });
  return new Hono<AppEnv>().get('/', auditDoc, async (c) => {
    requireAdmin(c);
    return c.json(await queryAudit(deps.db, queryParams(c, auditQuerySchema)));
  });
}
