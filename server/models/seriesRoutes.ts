import { Hono } from 'hono';
import { studyIdParamSchema } from '../../shared/protocol/params';
import type { Db } from '../db/client';
import { pathParam } from '../http/params';
import { requireAdmin, type AppEnv } from '../http/principal';
import { metricSeries } from './series';

/** Read-only: each version's pooled figures and each site's reports, for the admin console's convergence chart. */
export function metricSeriesRoutes(deps: { db: Db }) {
  return new Hono<AppEnv>().get('/:id/metrics', async (c) => {
    requireAdmin(c);
    return c.json(await metricSeries(deps.db, pathParam(c, 'id', studyIdParamSchema)));
  });
}
