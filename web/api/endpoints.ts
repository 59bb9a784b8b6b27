import type { Dashboard, Identity, LoginResult, StudySummary } from '../../shared/protocol';
import { apiFetch } from './http';

export type { AdminIdentity, HospitalIdentity, Identity } from '../../shared/protocol';

export const getMe = (token?: string) => apiFetch<Identity>('/api/auth/me', { token });

export const login = (email: string, password: string) =>
  apiFetch<LoginResult>('/api/auth/login', { json: { email, password } });

export const logout = () => apiFetch<unknown>('/api/auth/logout', { method: 'POST' });

export const listStudies = (token?: string) => apiFetch<StudySummary[]>('/api/studies', { token });

export const getStudy = (id: string, token?: string) =>
  apiFetch<StudySummary>(`/api/studies/${encodeURIComponent(id)}`, { token });

export const getDashboard = (id: string) => apiFetch<Dashboard>(`/api/studies/${encodeURIComponent(id)}/dashboard`);
