import { Hono } from 'hono';
import { studyIdParamSchema } from '../../shared/protocol/params';
import type { Db } from '../db/client';
import { pathParam } from '../http/params';
import type { AppEnv } from '../http/principal';
import { publicRiskModelSchema } from '../../shared/protocol/riskModel';
import { doc } from '../openapi/describe';
import { publicRiskModel } from './riskModel';

/**
 * Routes anyone may call, without an account: the patient page's risk check. They publish only what
 * is public by design (approved model, pooled metrics, aggregate statistics); requests carry no
 * patient data, since the page computes the risk on the device.
 */
export function publicModelRoutes(deps: { db: Db }) {
  const { db } = deps;
  const riskDoc = doc({
    tag: 'Patients',
    summary: "The patient page's risk model: the approved version and what it needs",
    description: 'Only what is public by design. The page computes the risk on the device: no patient data is sent.',
    access: 'public',
    params: { id: studyIdParamSchema },
    response: publicRiskModelSchema,
  });
  return new Hono<AppEnv>().get('/:id/risk-model', riskDoc, async (c) => {
    const studyId = pathParam(c, 'id', studyIdParamSchema);
    const body = await publicRiskModel(db, studyId);
    // The approved version can change at any time: revalidate each time.
    c.header('Cache-Control', 'no-cache');
    c.header('X-Model-Version', String(body.version));
    return c.json(body);
  });
}
