import type { ApiTokenList, CreatedApiToken } from '../../shared/protocol/monitoring';
import { apiFetch } from './http';

/** The platform admin's API tokens for monitoring tools (never their secrets). */
export const listApiTokens = () => apiFetch<ApiTokenList>('/api/tokens').then((r) => r.tokens);

/** A new read-only token: the answer carries its secret, the only time it is shown. */
export const createApiToken = (name: string) => apiFetch<CreatedApiToken>('/api/tokens', { json: { name } });

export const revokeApiToken = (id: string) => apiFetch<void>(`/api/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' });
