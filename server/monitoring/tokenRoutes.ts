import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import { apiTokenIdParamSchema, apiTokenListSchema, createApiTokenRequestSchema, createdApiTokenSchema } from '../../shared/protocol/monitoring';
import type { Audit } from '../audit/log';
import { pathParam } from '../http/params';
import { doc } from '../openapi/describe';
import { addressOf, requireAdmin, type AppEnv } from '../http/principal';
import type { ApiTokens } from './apiTokens';

async function json<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.infer<S>> {
  const raw = await c.req.json().catch(() => {
    throw new ConsiliumError(ErrorCode.BadRequest, 'the request body must be JSON', 400);
  });
  return schema.parse(raw);
}

/**
 * `/api/tokens`: platform admins create, list and revoke the read-only API tokens of monitoring tools.
 * A token's secret is in the creation's answer only; the list never shows it. Each change is audited.
 */
export function apiTokenRoutes(deps: { apiTokens: ApiTokens; audit: Audit }) {
  const { apiTokens, audit } = deps;
  const tag = 'API tokens';
  return new Hono<AppEnv>()
    .get('/', doc({ tag, summary: 'The API tokens (never their secrets)', access: 'admin', response: apiTokenListSchema }), async (c) => {
      requireAdmin(c);
      return c.json({ tokens: await apiTokens.list() });
    })
    .post('/', doc({ tag, summary: 'Create a read-only monitoring API token', description: 'The answer holds the secret (`cst_…`), shown this once: only its hash is kept.', access: 'admin', body: createApiTokenRequestSchema, status: 201, response: createdApiTokenSchema }), async (c) => {
      const admin = requireAdmin(c);
      const { name } = await json(c, createApiTokenRequestSchema);
      const created = await apiTokens.create({ name, createdBy: admin.userId });
      await audit({ action: 'api_token.created', actor: admin, target: name, address: addressOf(c), detail: { tokenId: created.id, scope: created.scope } });
      return c.json(created, 201);
    })
    .delete('/:id', doc({ tag, summary: 'Revoke an API token', access: 'admin', params: { id: apiTokenIdParamSchema }, status: 204, response: { empty: 'Revoked (revoking again changes nothing).' } }), async (c) => {
      const admin = requireAdmin(c);
      const id = pathParam(c, 'id', apiTokenIdParamSchema);
      const revoked = await apiTokens.revoke(id);
      if (!revoked) throw new ConsiliumError(ErrorCode.NotFound, `no API token '${id}'`, 404);
      await audit({ action: 'api_token.revoked', actor: admin, target: revoked.name, address: addressOf(c), detail: { tokenId: id } });
      return c.body(null, 204);
    });
}
