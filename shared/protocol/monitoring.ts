import { z } from 'zod';
import { PG_INTEGER_MAX, studyIdParamSchema, wholeNumberParamSchema } from './params';

/*
 * The monitoring API (`/api/rounds/current`, `/api/metrics/latest`, `/api/metrics/history`,
 * `/api/clients`) and the API tokens that read it without a browser session. Requests and answers
 * are zod objects, so an OpenAPI document can be generated from them.
 */

/** Every API token's secret starts with this, so a leaked one is easy to recognise (and to scan for). */
export const API_TOKEN_PREFIX = 'cst_';
export const apiTokenScopes = ['monitoring:read'] as const;
export type ApiTokenScope = (typeof apiTokenScopes)[number];

const isoTime = z.string().describe('ISO 8601 time');
const count = z.number().int().min(0);

// ---- API tokens (`/api/tokens`, platform admins) ----

export const createApiTokenRequestSchema = z.object({
  name: z.string().trim().min(1, 'give the token a name (what will use it)').max(100, 'a token name is at most 100 characters'),
});
export type CreateApiTokenRequest = z.infer<typeof createApiTokenRequestSchema>;

/** A token's `:id` in a URL (the server makes them with randomUUID). */
export const apiTokenIdParamSchema = z.uuid({ error: 'an API token id is a UUID' });

/** A token as listed: never its secret, which the server does not keep. */
export const apiTokenViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  scope: z.enum(apiTokenScopes),
  /** The email of the admin who made it. */
  createdBy: z.string(),
  createdAt: isoTime,
  lastUsedAt: isoTime.nullable(),
  revokedAt: isoTime.nullable(),
});
export type ApiTokenView = z.infer<typeof apiTokenViewSchema>;

export const apiTokenListSchema = z.object({ tokens: z.array(apiTokenViewSchema) });
export type ApiTokenList = z.infer<typeof apiTokenListSchema>;

/** What creating a token answers: the only time its secret is shown. */
export const createdApiTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  scope: z.enum(apiTokenScopes),
  /** The secret, `cst_…`: sent as `Authorization: Bearer <token>`. Shown once. */
  token: z.string().startsWith(API_TOKEN_PREFIX),
});
export type CreatedApiToken = z.infer<typeof createdApiTokenSchema>;

// ---- Monitoring queries ----

/** `?study=`: one study, or every study when left out. */
export const studyFilterQuerySchema = z.object({ study: studyIdParamSchema.optional() });
export type StudyFilterQuery = z.infer<typeof studyFilterQuerySchema>;

export const METRICS_HISTORY_MAX_LIMIT = 1000;
export const METRICS_HISTORY_DEFAULT_LIMIT = 100;
export const metricsFormats = ['json', 'csv'] as const;
export type MetricsFormat = (typeof metricsFormats)[number];

export const metricsHistoryQuerySchema = z.object({
  study: z.string({ error: (i) => (i.input === undefined ? 'required: the study whose history to read' : undefined) }).pipe(studyIdParamSchema),
  limit: wholeNumberParamSchema
    .pipe(z.number().min(1, `must be from 1 to ${METRICS_HISTORY_MAX_LIMIT}`).max(METRICS_HISTORY_MAX_LIMIT, `must be from 1 to ${METRICS_HISTORY_MAX_LIMIT}`))
    .default(METRICS_HISTORY_DEFAULT_LIMIT),
  offset: wholeNumberParamSchema.default(0),
  /** Left out: JSON, unless the request's Accept asks for text/csv. */
  format: z.enum(metricsFormats, { error: "must be 'json' or 'csv'" }).optional(),
});
export type MetricsHistoryQuery = z.input<typeof metricsHistoryQuerySchema>;

// ---- Monitoring answers ----

const studyStatusSchema = z.enum(['waiting', 'running', 'paused', 'stopped', 'completed']);

/** A round that has opened and not yet ended. */
export const currentRoundSchema = z.object({
  round: count,
  status: z.enum(['open', 'aggregating']),
  baseVersion: count,
  openedAt: isoTime,
  deadline: isoTime,
  /** Sites sampled for it. */
  sampled: count,
  /** Updates (or, in a secure round, masked inputs) received so far. */
  received: count,
});
export type CurrentRound = z.infer<typeof currentRoundSchema>;

export const studyCurrentRoundSchema = z.object({
  studyId: z.string(),
  studyName: z.string(),
  studyStatus: studyStatusSchema,
  /** Null when no round is open. */
  round: currentRoundSchema.nullable(),
});
export const currentRoundsResponseSchema = z.object({ studies: z.array(studyCurrentRoundSchema) });
export type CurrentRoundsResponse = z.infer<typeof currentRoundsResponseSchema>;

/**
 * One closed round's figures: what its contributors trained on, and how the version it wrote scores
 * on the sites' validation splits (sample-weighted over the reports counted; null until one arrives).
 */
export const roundMetricsSchema = z.object({
  round: count,
  version: count,
  closedAt: isoTime,
  contributors: count,
  trainingSamples: count,
  trainLoss: z.number().nullable(),
  validationLoss: z.number().nullable(),
  validationAccuracy: z.number().nullable(),
  validationSamples: count,
  validationReports: count,
});
export type RoundMetrics = z.infer<typeof roundMetricsSchema>;

/** The CSV export's columns, in order: the fields of `roundMetricsSchema`. */
export const METRICS_CSV_COLUMNS = Object.keys(roundMetricsSchema.shape) as (keyof RoundMetrics)[];

export const studyLatestMetricsSchema = z.object({
  studyId: z.string(),
  studyName: z.string(),
  /** The latest closed round's figures; null before any round closes. */
  latest: roundMetricsSchema.nullable(),
});
export const latestMetricsResponseSchema = z.object({ studies: z.array(studyLatestMetricsSchema) });
export type LatestMetricsResponse = z.infer<typeof latestMetricsResponseSchema>;

export const metricsHistoryResponseSchema = z.object({
  studyId: z.string(),
  /** Closed rounds in all, whatever the page. */
  total: count,
  limit: z.number().int().min(1).max(METRICS_HISTORY_MAX_LIMIT),
  offset: z.number().int().min(0).max(PG_INTEGER_MAX),
  /** Oldest first. */
  rounds: z.array(roundMetricsSchema),
});
export type MetricsHistoryResponse = z.infer<typeof metricsHistoryResponseSchema>;

/** A site enrolled in a study, as monitoring sees it. */
export const clientViewSchema = z.object({
  studyId: z.string(),
  participantId: z.string(),
  siteId: z.string(),
  siteName: z.string(),
  /** Connected to this server process now. */
  online: z.boolean(),
  lastSeenAt: isoTime.nullable(),
  /** Closed rounds it sent an accepted update (or a secure round's masked input) to. */
  roundsContributed: count,
  /** The compute backend its tab last trained on. */
  backend: z.string().nullable(),
});
export type ClientView = z.infer<typeof clientViewSchema>;
export const clientsResponseSchema = z.object({ clients: z.array(clientViewSchema) });
export type ClientsResponse = z.infer<typeof clientsResponseSchema>;
