import { z } from 'zod';
import { studyConfigSchema, trainingConfigSchema } from './studyConfig';
import { normalisationSchema, siteStatisticsSchema } from '../fl/normalisation';
import { clinicalMetricsSchema } from '../metrics/clinical';
import { privacyStatusSchema } from './privacy';
import { secureRoundSchema } from './secagg';

export const studyIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'study ids are lower-case letters, digits and dashes');

export * from './studyConfig';
export * from './privacy';
export * from './secagg';

/** A study's life: waiting for its first round, running, paused by an admin, stopped for good, or done. */
export const studyStatusSchema = z.enum(['waiting', 'running', 'paused', 'stopped', 'completed']);
export type StudyStatus = z.infer<typeof studyStatusSchema>;

export const roundStatusSchema = z.enum(['open', 'aggregating', 'closed', 'abandoned']);
export type RoundStatus = z.infer<typeof roundStatusSchema>;

export const backendNameSchema = z.enum(['webgpu', 'webgl', 'wasm', 'cpu']);
export type BackendName = z.infer<typeof backendNameSchema>;

/**
 * `suspended`: the tab said the browser is freezing or leaving it (page lifecycle), so silence from it
 * is expected, not a crash. `straggler`: the dashboard's label, never a tab's report, for a hospital
 * that owes the open round an update and cannot deliver it now, or missed the last round's deadline.
 */
export const participantStateSchema = z.enum(['offline', 'idle', 'training', 'uploading', 'done', 'evaluating', 'suspended', 'straggler']);
export type ParticipantState = z.infer<typeof participantStateSchema>;
/** What a tab may say about itself: anything but the dashboard's own verdict. */
export const reportedStateSchema = participantStateSchema.exclude(['straggler']);

export const studySummarySchema = z.object({
  id: studyIdSchema,
  name: z.string(),
  templateId: z.string(),
  status: studyStatusSchema,
  config: studyConfigSchema,
  currentVersion: z.number().int().min(0),
  completedRounds: z.number().int().min(0),
  /** The study's global feature statistics; null until the sites have contributed theirs. */
  normalisation: normalisationSchema.nullable(),
  /** What a differentially private study has spent; null for a study without privacy. */
  privacy: privacyStatusSchema.nullable().default(null),
});
export type StudySummary = z.infer<typeof studySummarySchema>;

export const roundOpenSchema = z.object({
  studyId: studyIdSchema,
  round: z.number().int().min(1),
  baseVersion: z.number().int().min(0),
  /** Epoch milliseconds. */
  deadline: z.number().int(),
  training: trainingConfigSchema,
  /** The statistics every site encodes its features with in this study. */
  normalisation: normalisationSchema.nullable(),
  /** Under differential privacy: clip the delta to this L2 norm before uploading it (the server clips again). */
  clipNorm: z.number().positive().optional(),
  /** Under secure aggregation: this site's part in the round's protocol (./secagg.ts); it uploads a masked input, never its update. */
  secureAggregation: secureRoundSchema.optional(),
});
export type RoundOpen = z.infer<typeof roundOpenSchema>;

export const roundClosedSchema = z.object({
  studyId: studyIdSchema,
  round: z.number().int().min(1),
  status: z.enum(['closed', 'abandoned']),
  /** The model version the round produced; null when it was abandoned. */
  version: z.number().int().min(1).nullable(),
  contributors: z.number().int().min(0),
  studyStatus: studyStatusSchema,
  /** Whether sites evaluate this version (the study's evaluateEvery; the final version always). */
  evaluate: z.boolean().optional(),
  /** Under differential privacy: what the study has spent with this round. */
  privacy: privacyStatusSchema.optional(),
});
export type RoundClosed = z.infer<typeof roundClosedSchema>;

/** Metadata an update carries inside its binary body (see shared/weights). */
export const updateMetaSchema = z.object({
  studyId: studyIdSchema,
  round: z.number().int().min(1),
  baseVersion: z.number().int().min(0),
  numSamples: z.number().int().min(1).max(100_000_000),
  backend: backendNameSchema,
  trainLoss: z.number().finite().optional(),
});
export type UpdateMeta = z.infer<typeof updateMetaSchema>;

export const uploadReceiptSchema = z.object({
  accepted: z.literal(true),
  duplicate: z.boolean(),
  round: z.number().int(),
  received: z.number().int(),
  expected: z.number().int(),
  /** Taken late into the round named, under the study's straggler policy, this many versions stale. */
  lateBy: z.number().int().min(1).optional(),
});
export type UploadReceipt = z.infer<typeof uploadReceiptSchema>;

export const evaluationReportSchema = z.object({
  studyId: studyIdSchema,
  version: z.number().int().min(0),
  loss: z.number().finite().min(0),
  accuracy: z.number().min(0).max(1),
  numSamples: z.number().int().min(1),
  backend: backendNameSchema,
  /**
   * The clinical metrics of the same predictions; their sample count must match. They may carry score
   * histograms (`clinical.histogram`, shared/metrics/histogram.ts: sparse `[bin, count]` pairs, 1000
   * bins binary, 100 per class one-vs-rest multi-class), from which the server pools AUROC and ROC
   * exactly; the server checks them against the rest of the report (shared/metrics/plausibility.ts).
   * A histogram is a release of its own: a differentially private study must send it noised and
   * accounted for, or not at all, never as it is (there is no DP yet: tabs send it un-noised).
   */
  clinical: clinicalMetricsSchema.optional(),
}).refine((r) => !r.clinical || r.clinical.numSamples === r.numSamples, { message: 'clinical metrics count other samples', path: ['clinical', 'numSamples'] });
export type EvaluationReport = z.infer<typeof evaluationReportSchema>;

export const progressReportSchema = z.object({
  studyId: studyIdSchema,
  state: reportedStateSchema,
  round: z.number().int().min(0).optional(),
  epoch: z.number().int().min(0).optional(),
  epochs: z.number().int().min(0).optional(),
  loss: z.number().finite().optional(),
  backend: backendNameSchema.optional(),
});
export type ProgressReport = z.infer<typeof progressReportSchema>;

/** SHA-256 (hex) of a site's dataset content, so admins can tell when a site re-imported its data. */
export const datasetFingerprintSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a hex SHA-256');

export const joinRequestSchema = z.object({
  studyId: studyIdSchema,
  /** The site's training records: no update of it may declare more samples, nor a report more validation records than they allow. */
  numSamples: z.number().int().min(0).max(100_000_000, 'numSamples is at most 100,000,000').optional(),
  backend: backendNameSchema.optional(),
  datasetFingerprint: datasetFingerprintSchema.optional(),
});
export type JoinRequest = z.infer<typeof joinRequestSchema>;

export const statisticsReportSchema = z.object({
  studyId: studyIdSchema,
  statistics: siteStatisticsSchema,
  /** The dataset they were computed on: the site sends them again when it trains on other data. */
  datasetFingerprint: datasetFingerprintSchema.optional(),
});
export type StatisticsReport = z.infer<typeof statisticsReportSchema>;

export const siteSchema = z.object({ id: z.string(), name: z.string() });
export type Site = z.infer<typeof siteSchema>;

export const joinResultSchema = z.object({
  participantId: z.string(),
  site: siteSchema,
  study: studySummarySchema,
  openRound: roundOpenSchema.nullable(),
  /**
   * The study has no aggregate statistics from this site yet: it sends them once. Before the first
   * round they go into the study's normalisation; after, only into the admins' view of each site's data.
   */
  statisticsNeeded: z.boolean(),
});
export type JoinResult = z.infer<typeof joinResultSchema>;

export const participantViewSchema = z.object({
  participantId: z.string(),
  siteId: z.string(),
  siteName: z.string(),
  connected: z.boolean(),
  state: participantStateSchema,
  backend: backendNameSchema.nullable(),
  numSamples: z.number().int().nullable(),
  round: z.number().int().nullable(),
  epoch: z.number().int().nullable(),
  epochs: z.number().int().nullable(),
  loss: z.number().nullable(),
  lastUpdateRound: z.number().int().nullable(),
  datasetFingerprint: z.string().nullable(),
  /** When the site last sent its aggregate statistics (ISO); null if it never did. */
  statisticsAt: z.string().nullable(),
});
export type ParticipantView = z.infer<typeof participantViewSchema>;

export const roundViewSchema = z.object({
  round: z.number().int(),
  status: roundStatusSchema,
  baseVersion: z.number().int(),
  version: z.number().int().nullable(),
  sampled: z.number().int(),
  received: z.number().int(),
  openedAt: z.string(),
  closedAt: z.string().nullable(),
  deadline: z.string(),
  /** The round's clipping rule and bound, fixed when it opened (null bound: unclipped). */
  clipMode: z.enum(['adaptive', 'fixed', 'median', 'none']).nullable().default(null),
  clipNorm: z.number().nullable().default(null),
  /** Updates scaled down to the bound, each with its norm as received (closed rounds). */
  clipped: z.array(z.object({ participantId: z.string(), norm: z.number() })).default([]),
  /** Updates weighted by fewer samples than they declared (the round's sample cap). */
  capped: z.array(z.object({ participantId: z.string(), declared: z.number() })).default([]),
  sampleCap: z.number().nullable().default(null),
  /** Under differential privacy: ε spent once this round is released, and the noise its mean got. */
  epsilon: z.number().nullable().default(null),
  noiseStd: z.number().nullable().default(null),
  /**
   * Under secure aggregation: the fewest sites the round's steps may continue with, and (once unmasked)
   * how many sites' masked inputs are in its sum; there is no per-site figure.
   */
  secure: z.object({ threshold: z.number().int().nullable(), survivors: z.number().int().nullable() }).nullable().default(null),
});
export type RoundView = z.infer<typeof roundViewSchema>;

/** Sample-weighted federated evaluation of one model version, over the reports that are pooled. */
export const versionMetricsSchema = z.object({
  version: z.number().int(),
  round: z.number().int().nullable(),
  loss: z.number().nullable(),
  accuracy: z.number().nullable(),
  numSamples: z.number().int(),
  reports: z.number().int(),
  /** Reports left out of the figures: far from the other sites' and not (yet) included by an admin. */
  flagged: z.number().int().default(0),
});
export type VersionMetrics = z.infer<typeof versionMetricsSchema>;

/** An update the server refused: never aggregated, kept with its reason for the admins. */
export const refusedUpdateViewSchema = z.object({
  round: z.number().int(),
  siteName: z.string(),
  code: z.string(),
  reason: z.string(),
  bytes: z.number().int().min(0),
  at: z.string(),
});
export type RefusedUpdateView = z.infer<typeof refusedUpdateViewSchema>;

export const dashboardSchema = z.object({
  study: studySummarySchema,
  openRound: roundViewSchema.nullable(),
  rounds: z.array(roundViewSchema),
  metrics: z.array(versionMetricsSchema),
  participants: z.array(participantViewSchema),
  /** The latest refused updates, newest first. */
  refused: z.array(refusedUpdateViewSchema),
});
export type Dashboard = z.infer<typeof dashboardSchema>;

export const loginRequestSchema = z.object({
  email: z.string().email().max(320),
  password: z.string().min(1).max(1024),
});

export const healthSchema = z.object({
  status: z.enum(['ok', 'degraded', 'draining']),
  version: z.string(),
  database: z.object({ kind: z.enum(['pglite', 'postgres']), reachable: z.boolean() }),
  /** The blob store of update payloads and model versions (server/storage). */
  storage: z.object({ reachable: z.boolean() }),
  uptimeSeconds: z.number(),
});
export type Health = z.infer<typeof healthSchema>;

export const adminIdentitySchema = z.object({ role: z.literal('platform_admin'), email: z.string() });
export const hospitalIdentitySchema = z.object({
  role: z.literal('hospital'),
  site: siteSchema,
  /** The signed-in person's role at the site; `staff` for a demo sign-in link. */
  staffRole: z.enum(['site_admin', 'staff']),
  email: z.string().nullable(),
  /** Synthetic profile a demo site's browser generates; null for a real site. */
  demoProfile: z.string().nullable(),
  studyIds: z.array(z.string()),
});
export const patientIdentitySchema = z.object({ role: z.literal('patient'), email: z.string() });
/** `GET /api/auth/me`: who the caller is. */
export const identitySchema = z.discriminatedUnion('role', [adminIdentitySchema, hospitalIdentitySchema, patientIdentitySchema]);
export type AdminIdentity = z.infer<typeof adminIdentitySchema>;
export type HospitalIdentity = z.infer<typeof hospitalIdentitySchema>;
export type PatientIdentity = z.infer<typeof patientIdentitySchema>;
export type Identity = z.infer<typeof identitySchema>;

export const loginResultSchema = z.object({
  user: z.object({
    email: z.string(),
    role: z.enum(['platform_admin', 'site_admin', 'staff', 'patient']),
    siteId: z.string().nullable(),
    home: z.string(),
  }),
});
export type LoginResult = z.infer<typeof loginResultSchema>;
