import { Hono, type Context } from 'hono';
import {
  clientsResponseSchema,
  currentRoundsResponseSchema,
  latestMetricsResponseSchema,
  metricsHistoryQuerySchema,
  metricsHistoryResponseSchema,
  studyFilterQuerySchema,
  type MetricsFormat,
} from '../../shared/protocol/monitoring';
import type { Db } from '../db/client';
import { queryParams } from '../http/params';
import { doc } from '../openapi/describe';
import { requireAdmin, type AppEnv } from '../http/principal';
import type { Presence } from '../realtime/presence';
import type { ApiTokens } from './apiTokens';
import { metricsCsv } from './csv';
import { clients, currentRounds, latestMetrics, metricsHistory } from './service';

export interface MonitoringRouteDeps {
  db: Db;
  presence: Presence;
  apiTokens: Pick<ApiTokens, 'touch'>;
}

/**
 * Platform admins, or an API token of scope `monitoring:read`. The principal middleware resolved the
 * token; these routes are the only ones that accept it, and only for reading (they are all GETs).
 */
async function requireMonitoring(c: Context<AppEnv>, apiTokens: MonitoringRouteDeps['apiTokens']): Promise<void> {
  const token = c.get('apiToken');
  if (token?.scope === 'monitoring:read' && (c.req.method === 'GET' || c.req.method === 'HEAD')) {
    await apiTokens.touch(token);
    return;
  }
  requireAdmin(c);
}

/** `?format=` wins; without it, a client whose Accept names text/csv before (or without) JSON gets CSV. */
function formatOf(c: Context, format: MetricsFormat | undefined): MetricsFormat {
  if (format) return format;
  const accept = (c.req.header('accept') ?? '').toLowerCase();
  const csv = accept.indexOf('text/csv');
  const json = accept.indexOf('application/json');
  return csv >= 0 && (json < 0 || csv < json) ? 'csv' : 'json';
}

/**
 * The monitoring API, mounted at `/api`: the open round, the latest closed round's metrics, the
 * metrics history (JSON or CSV, paginated) and the enrolled sites, per study (`?study=`) or for all.
 */
export function monitoringRoutes(deps: MonitoringRouteDeps) {
  const { db, presence, apiTokens } = deps;
  const tag = 'Monitoring';
  const unknownStudy = { 404: 'No study of that id.' };
  return new Hono<AppEnv>()
    .get('/rounds/current', doc({ tag, summary: 'The open round of each study, or of one (`?study=`)', access: 'monitor', query: studyFilterQuerySchema, response: currentRoundsResponseSchema, errors: unknownStudy }), async (c) => {
      await requireMonitoring(c, apiTokens);
      return c.json(await currentRounds(db, queryParams(c, studyFilterQuerySchema).study));
    })
    .get('/metrics/latest', doc({ tag, summary: 'The latest closed round’s metrics, per study', access: 'monitor', query: studyFilterQuerySchema, response: latestMetricsResponseSchema, errors: unknownStudy }), async (c) => {
      await requireMonitoring(c, apiTokens);
      return c.json(await latestMetrics(db, queryParams(c, studyFilterQuerySchema).study));
    })
    .get(
      '/metrics/history',
      doc({
        tag,
        summary: 'A study’s per-round metrics history, a page at a time',
        description: 'Closed rounds oldest first, with the total. `format=csv` (or Accept: text/csv) answers CSV as a download, its total in X-Total-Count.',
        access: 'monitor',
        query: metricsHistoryQuerySchema,
        response: metricsHistoryResponseSchema,
        csv: 'A header row of the round fields, then one row per round.',
        errors: unknownStudy,
      }),
      async (c) => {
        await requireMonitoring(c, apiTokens);
        const q = queryParams(c, metricsHistoryQuerySchema);
        const history = await metricsHistory(db, q.study, { limit: q.limit, offset: q.offset });
        if (formatOf(c, q.format) === 'json') return c.json(history);
        c.header('Content-Type', 'text/csv; charset=utf-8');
        c.header('Content-Disposition', `attachment; filename="${q.study}-metrics.csv"`);
        // The page's place in the whole, which a CSV body has no room for.
        c.header('X-Total-Count', String(history.total));
        return c.body(metricsCsv(history.rounds));
      },
    )
    .get('/clients', doc({ tag, summary: 'The sites enrolled: online now, last seen, rounds contributed', access: 'monitor', query: studyFilterQuerySchema, response: clientsResponseSchema, errors: unknownStudy }), async (c) => {
      await requireMonitoring(c, apiTokens);
      return c.json(await clients(db, presence, queryParams(c, studyFilterQuerySchema).study));
    });
}
