import type { ApprovalView, Dashboard, Identity, LoginResult, ModelVersionView, StudySummary } from '../../shared/protocol';
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

const studyPath = (id: string) => `/api/studies/${encodeURIComponent(id)}`;

export const listVersions = (id: string) => apiFetch<ModelVersionView[]>(`${studyPath(id)}/versions`);

export const listApprovals = (id: string) => apiFetch<ApprovalView[]>(`${studyPath(id)}/approvals`);

export const approveVersion = (id: string, version: number, note: string) =>
  apiFetch<ApprovalView>(`${studyPath(id)}/versions/${version}/approve`, { json: { note } });

/** Where a version's TensorFlow.js layers model loads from (`tf.loadLayersModel`). */
export const modelJsonUrl = (id: string, version: number | 'approved') => `${studyPath(id)}/versions/${version}/model.json`;
