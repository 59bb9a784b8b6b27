import type { z } from 'zod';
import type {
  ApprovalView,
  ConfigChangeResult,
  ConfigChangeView,
  createStudyRequestSchema,
  Dashboard,
  EnrolResult,
  Identity,
  LoginResult,
  ModelVersionView,
  RecordPrivacyStatus,
  VersionEvaluation,
  SiteView,
  StudyConfigPatchInput,
  StudySummary,
  TemplateView,
} from '../../shared/protocol';
import type { AuditPage, AuditQuery, CreatedInvite, CreateInvite, InvitePreview, InviteView, IssuedLink, RedeemInvite, SiteDetail } from '../../shared/protocol/accounts';
import type { DataQuality } from '../../shared/protocol/dataQuality';
import type { MetricSeries } from '../../shared/protocol/metricSeries';
import type { RoundDetail } from '../../shared/protocol/roundDetail';
import type { ColumnSummaryView, CreateTemplateRequest } from '../../shared/protocol/templates';
import type { StudyDesign } from '../../shared/tasks/design';
import type { TaskTemplate } from '../../shared/tasks/spec';
import { apiFetch } from './http';

export type { AdminIdentity, HospitalIdentity, Identity, PatientIdentity } from '../../shared/protocol';

export const getMe = (token?: string) => apiFetch<Identity>('/api/auth/me', { token });

export const login = (email: string, password: string) =>
  apiFetch<LoginResult>('/api/auth/login', { json: { email, password } });

export const logout = () => apiFetch<unknown>('/api/auth/logout', { method: 'POST' });

export const listStudies = (token?: string) => apiFetch<StudySummary[]>('/api/studies', { token });

export const getStudy = (id: string, token?: string) =>
  apiFetch<StudySummary>(`/api/studies/${encodeURIComponent(id)}`, { token });

/** Record-level (DP-SGD) privacy: every site's ε for an admin, the caller's own for a hospital. */
export const getRecordPrivacy = (id: string, token?: string) => apiFetch<RecordPrivacyStatus>(`/api/studies/${encodeURIComponent(id)}/record-privacy`, { token });

export const getDashboard = (id: string) => apiFetch<Dashboard>(`/api/studies/${encodeURIComponent(id)}/dashboard`);

const studyPath = (id: string) => `/api/studies/${encodeURIComponent(id)}`;

export const listVersions = (id: string) => apiFetch<ModelVersionView[]>(`${studyPath(id)}/versions`);

/** One round in detail: timeline, bytes, norms against the bound, weights, Krum's selection (platform admins). */
export const getRoundDetail = (id: string, round: number) => apiFetch<RoundDetail>(`${studyPath(id)}/rounds/${round}`);

export const listApprovals = (id: string) => apiFetch<ApprovalView[]>(`${studyPath(id)}/approvals`);

export const approveVersion = (id: string, version: number, note: string) =>
  apiFetch<ApprovalView>(`${studyPath(id)}/versions/${version}/approve`, { json: { note } });

export const getVersionEvaluation = (id: string, version: number) => apiFetch<VersionEvaluation>(`${studyPath(id)}/versions/${version}/evaluation`);

/** Each site's missing and out-of-range values per feature, with warnings (platform admins). */
export const getDataQuality = (id: string) => apiFetch<DataQuality>(`${studyPath(id)}/data-quality`);

/** Every version's pooled figures and each site's reports, for the convergence chart. */
export const getMetricSeries = (id: string) => apiFetch<MetricSeries>(`${studyPath(id)}/metrics`);

/** Count a flagged report in the version's pooled figures (`include`), or leave it out again. */
export const setEvaluationIncluded = (id: string, version: number, participantId: string, include: boolean) =>
  apiFetch<VersionEvaluation>(`${studyPath(id)}/versions/${version}/evaluations/${encodeURIComponent(participantId)}/include`, { method: include ? 'POST' : 'DELETE' });

/** Where a version's TensorFlow.js layers model loads from (`tf.loadLayersModel`). */
export const modelJsonUrl = (id: string, version: number | 'approved') => `${studyPath(id)}/versions/${version}/model.json`;

// Study administration (platform admins).

export const listTemplates = () => apiFetch<TemplateView[]>('/api/templates');

// Custom study templates, defined in the study designer (issue 20).

/** Store a designed study as a template: a new study id, or the next version of a custom one. */
export const createTemplate = (req: CreateTemplateRequest) => apiFetch<{ template: TaskTemplate; view: TemplateView }>('/api/templates', { json: req });

/** The design a custom template was made from, to start its next version. */
export const getTemplateDesign = (id: string) => apiFetch<StudyDesign>(`/api/templates/${encodeURIComponent(id)}/design`);

/** Where a template's full JSON downloads from (the export). */
export const templateJsonUrl = (id: string) => `/api/templates/${encodeURIComponent(id)}`;

/** What sites sent of their columns (never rows), newest first. */
export const listColumnSummaries = () => apiFetch<ColumnSummaryView[]>('/api/column-summaries');

export const listSites = () => apiFetch<SiteView[]>('/api/sites');

export const createStudy = (req: z.input<typeof createStudyRequestSchema>) => apiFetch<StudySummary>('/api/studies', { json: req });

export const enrolSite = (id: string, siteId: string) => apiFetch<EnrolResult>(`${studyPath(id)}/participants`, { json: { siteId } });

export const changeStudyConfig = (id: string, patch: StudyConfigPatchInput) =>
  apiFetch<ConfigChangeResult>(`${studyPath(id)}/config`, { method: 'PATCH', json: patch });

export const listConfigChanges = (id: string) => apiFetch<ConfigChangeView[]>(`${studyPath(id)}/config-changes`);

export const changeStudyStatus = (id: string, action: 'pause' | 'resume' | 'stop') =>
  apiFetch<StudySummary>(`${studyPath(id)}/${action}`, { method: 'POST' });

/** Continue the study from an earlier version (the round in progress is abandoned). */
export const restartFromVersion = (id: string, fromVersion: number) =>
  apiFetch<StudySummary>(`${studyPath(id)}/restart`, { json: { fromVersion } });

// Accounts, sites and invites (issue 5).
export const refresh = () => apiFetch<LoginResult>('/api/auth/refresh', { method: 'POST' });
export const previewInvite = (code: string) => apiFetch<InvitePreview>(`/api/auth/invites/${encodeURIComponent(code)}`);
export const redeemInvite = (req: RedeemInvite) => apiFetch<LoginResult>('/api/auth/invites/redeem', { json: req });
export const getSite = (id: string) => apiFetch<SiteDetail>(`/api/sites/${encodeURIComponent(id)}`);
export const createSite = (req: { name: string; id?: string }) => apiFetch<SiteDetail>('/api/sites', { json: req });
export const suspendSite = (id: string) => apiFetch<SiteDetail>(`/api/sites/${encodeURIComponent(id)}/suspend`, { method: 'POST' });
export const reinstateSite = (id: string) => apiFetch<SiteDetail>(`/api/sites/${encodeURIComponent(id)}/reinstate`, { method: 'POST' });
export const createInvite = (req: CreateInvite) => apiFetch<CreatedInvite>('/api/invites', { json: req });
export const listPatientInvites = () => apiFetch<InviteView[]>('/api/invites');
const memberLinkPath = (siteId: string, userId: string) => `/api/sites/${encodeURIComponent(siteId)}/members/${encodeURIComponent(userId)}/link`;
/** A new sign-in link for a hospital account; its earlier links stop working. */
export const reissueLink = (siteId: string, userId: string) => apiFetch<IssuedLink>(memberLinkPath(siteId, userId), { method: 'POST' });
/** End every sign-in link of a hospital account. */
export const revokeLinks = (siteId: string, userId: string) => apiFetch<{ revoked: boolean }>(memberLinkPath(siteId, userId), { method: 'DELETE' });
export const revokeInvite = (id: string) => apiFetch<{ revoked: boolean }>(`/api/invites/${encodeURIComponent(id)}`, { method: 'DELETE' });
export const getAudit = (q: AuditQuery) => {
  const params = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => [k, String(v)]));
  return apiFetch<AuditPage>(`/api/audit?${params}`);
};

// Column summaries (issue 20): a hospital tab describes one of its exports; no rows leave the tab.

/** Sends one site's column statistics (names, types, ranges, shared codes) for the study designer. */
export const sendColumnSummary = (summary: import('../../shared/data/columns').ColumnSummary, token?: string) =>
  apiFetch<{ id: string }>('/api/column-summaries', { json: summary, token });
