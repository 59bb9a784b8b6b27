import { z } from 'zod';
import { normalisationSchema, siteStatisticsSchema } from '../fl/normalisation';
import { clinicalMetricsSchema } from '../metrics/clinical';

export const studyIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'study ids are lower-case letters, digits and dashes');

/** Local training settings a study hands to every participant. */
export const trainingConfigSchema = z.object({
  localEpochs: z.number().int().min(1).max(100),
  batchSize: z.number().int().min(1).max(4096),
  learningRate: z.number().positive().max(10),
});
export type TrainingConfig = z.infer<typeof trainingConfigSchema>;

export const studyConfigSchema = trainingConfigSchema.extend({
  rounds: z.number().int().min(1).max(10_000),
  /** Fewest participants a round needs to open, and to be aggregated at its deadline. */
  minParticipants: z.number().int().min(1).max(10_000),
  /** Milliseconds a round stays open before its deadline policy applies. */
  roundDeadlineMs: z.number().int().min(1_000).max(7 * 24 * 3600 * 1000),
  /** Fraction of each site's records held out for federated evaluation. */
  validationFraction: z.number().min(0.05).max(0.5),
  /** Seed of the initial model and of every site's train/validation split. */
  seed: z.number().int().min(0).max(2 ** 31 - 1),
});
export type StudyConfig = z.infer<typeof studyConfigSchema>;

export const studyStatusSchema = z.enum(['waiting', 'running', 'completed']);
export type StudyStatus = z.infer<typeof studyStatusSchema>;

export const roundStatusSchema = z.enum(['open', 'aggregating', 'closed', 'abandoned']);
export type RoundStatus = z.infer<typeof roundStatusSchema>;

export const backendNameSchema = z.enum(['webgpu', 'webgl', 'wasm', 'cpu']);
export type BackendName = z.infer<typeof backendNameSchema>;

export const participantStateSchema = z.enum(['offline', 'idle', 'training', 'uploading', 'done', 'evaluating']);
export type ParticipantState = z.infer<typeof participantStateSchema>;

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
});
export type UploadReceipt = z.infer<typeof uploadReceiptSchema>;

export const evaluationReportSchema = z.object({
  studyId: studyIdSchema,
  version: z.number().int().min(0),
  loss: z.number().finite().min(0),
  accuracy: z.number().min(0).max(1),
  numSamples: z.number().int().min(1),
  backend: backendNameSchema,
  /** The clinical metrics of the same predictions; their sample count must match. */
  clinical: clinicalMetricsSchema.optional(),
}).refine((r) => !r.clinical || r.clinical.numSamples === r.numSamples, { message: 'clinical metrics count other samples', path: ['clinical', 'numSamples'] });
export type EvaluationReport = z.infer<typeof evaluationReportSchema>;

export const progressReportSchema = z.object({
  studyId: studyIdSchema,
  state: participantStateSchema,
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
  numSamples: z.number().int().min(0).optional(),
  backend: backendNameSchema.optional(),
  datasetFingerprint: datasetFingerprintSchema.optional(),
});
export type JoinRequest = z.infer<typeof joinRequestSchema>;

export const statisticsReportSchema = z.object({
  studyId: studyIdSchema,
  statistics: siteStatisticsSchema,
});
export type StatisticsReport = z.infer<typeof statisticsReportSchema>;

export const siteSchema = z.object({ id: z.string(), name: z.string() });
export type Site = z.infer<typeof siteSchema>;

export const joinResultSchema = z.object({
  participantId: z.string(),
  site: siteSchema,
  study: studySummarySchema,
  openRound: roundOpenSchema.nullable(),
  /** The study waits for this site's aggregate statistics before its first round. */
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
});
export type RoundView = z.infer<typeof roundViewSchema>;

/** Sample-weighted federated evaluation of one model version. */
export const versionMetricsSchema = z.object({
  version: z.number().int(),
  round: z.number().int().nullable(),
  loss: z.number().nullable(),
  accuracy: z.number().nullable(),
  numSamples: z.number().int(),
  reports: z.number().int(),
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
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  database: z.object({ kind: z.enum(['pglite', 'postgres']), reachable: z.boolean() }),
  uptimeSeconds: z.number(),
});
export type Health = z.infer<typeof healthSchema>;

export const adminIdentitySchema = z.object({ role: z.literal('platform_admin'), email: z.string() });
export const hospitalIdentitySchema = z.object({
  role: z.literal('hospital'),
  site: siteSchema,
  /** Synthetic profile a demo site's browser generates; null for a real site. */
  demoProfile: z.string().nullable(),
  studyIds: z.array(z.string()),
});
/** `GET /api/auth/me`: who the caller is. */
export const identitySchema = z.discriminatedUnion('role', [adminIdentitySchema, hospitalIdentitySchema]);
export type AdminIdentity = z.infer<typeof adminIdentitySchema>;
export type HospitalIdentity = z.infer<typeof hospitalIdentitySchema>;
export type Identity = z.infer<typeof identitySchema>;

export const loginResultSchema = z.object({ user: z.object({ email: z.string(), role: z.literal('platform_admin') }) });
export type LoginResult = z.infer<typeof loginResultSchema>;
