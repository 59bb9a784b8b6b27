import { Hono } from 'hono';
import { studyIdParamSchema } from '../../shared/protocol/params';
import type { Db } from '../db/client';
import { pathParam } from '../http/params';
import { requireAdmin, type AppEnv } from '../http/principal';
import { doc } from '../openapi/describe';
import { metricSeries } from './series';

/** Read-only: each version's pooled figures and each site's reports, for the admin console's convergence chart. */
export function metricSeriesRoutes(deps: { db: Db }) {
  const seriesDoc = doc({ tag: 'Models', summary: "Each version's pooled figures and each site's reports", access: 'admin', params: { id: studyIdParamSchema }, response: 'The convergence chart series (MetricSeries).' });
  return new Hono<AppEnv>().get('/:id/metrics', seriesDoc, async (c) => {
    requireAdmin(c);
    return c.json(await metricSeries(deps.db, pathParam(c, 'id', studyIdParamSchema)));
  });
}
