import { request, type APIRequestContext } from '@playwright/test';
import type { CreateInvite, CreatedInvite } from '../../shared/protocol/accounts';
import type { Dashboard, RoundView } from '../../shared/protocol/schemas';
import type { ConsiliumServer } from './server';

export interface AdminApi {
  dashboard(studyId?: string): Promise<Dashboard>;
  round(n: number, studyId?: string): Promise<RoundView | undefined>;
  /** Approves a model version for patients, as the console's Approve button does. */
  approve(version: number, note: string, studyId?: string): Promise<void>;
  /** An invite, as the console's Create invite makes it; returns its link. */
  invite(invite: CreateInvite): Promise<string>;
  dispose(): Promise<void>;
}

/** The platform admin's view of the server, over its HTTP API (signed in once; the session survives restarts). */
export async function adminApi(server: ConsiliumServer): Promise<AdminApi> {
  const api: APIRequestContext = await request.newContext({ baseURL: server.url });
  const login = await api.post('/api/auth/login', { data: server.admin });
  if (!login.ok()) throw new Error(`admin sign-in failed: ${login.status()} ${await login.text()}`);
  // Writes signed in by cookie echo the CSRF cookie, as the console's pages do.
  const csrf = (await api.storageState()).cookies.find((c) => c.name === 'consilium_csrf')?.value ?? '';
  const dashboard = async (studyId = 'heart-demo') => {
    const res = await api.get(`/api/studies/${studyId}/dashboard`);
    if (!res.ok()) throw new Error(`dashboard: ${res.status()} ${await res.text()}`);
    return (await res.json()) as Dashboard;
  };
  return {
    dashboard,
    round: async (n, studyId) => (await dashboard(studyId)).rounds.find((r) => r.round === n),
    approve: async (version, note, studyId = 'heart-demo') => {
      const res = await api.post(`/api/studies/${studyId}/versions/${version}/approve`, { data: { note }, headers: { 'X-CSRF-Token': csrf } });
      if (!res.ok()) throw new Error(`approve version ${version}: ${res.status()} ${await res.text()}`);
    },
    invite: async (invite) => {
      const res = await api.post('/api/invites', { data: invite, headers: { 'X-CSRF-Token': csrf } });
      if (!res.ok()) throw new Error(`invite: ${res.status()} ${await res.text()}`);
      return ((await res.json()) as CreatedInvite).url;
    },
    dispose: () => api.dispose(),
  };
}
