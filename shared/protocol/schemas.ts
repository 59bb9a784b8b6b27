import { z } from 'zod';
import { clippingSchema, defaultClipping, type Clipping } from '../fl/clipping';
import { createStrategy, defaultStrategyConfig, strategyConfigSchema } from '../fl/registry';
import { normalisationSchema, siteStatisticsSchema } from '../fl/normalisation';
import { clinicalMetricsSchema } from '../metrics/clinical';

export const studyIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'study ids are lower-case letters, digits and dashes');

/*
 * URL parameters (path and query), read as the strings they arrive as. A number in a URL is digits
 * only ('1e3', '0x10', ' 7' and '' are not numbers here, as `Number()` would have them) and fits
 * the PostgreSQL `integer` column it is looked up in: anything else is a 400, never a failed query.
 */

/** The largest PostgreSQL `integer`: round numbers, model versions and serial ids are stored as one. */
export const PG_INTEGER_MAX = 2_147_483_647;
const WHOLE_NUMBER_RULE = `must be a whole number from 0 to ${PG_INTEGER_MAX}`;

/** A whole number written in a URL, from 0 to PG_INTEGER_MAX. */
export const wholeNumberParamSchema = z
  .string()
  .regex(/^[0-9]{1,10}$/, WHOLE_NUMBER_RULE)
  .transform(Number)
  .pipe(z.number().max(PG_INTEGER_MAX, WHOLE_NUMBER_RULE));
export const roundParamSchema = wholeNumberParamSchema;
export const versionParamSchema = wholeNumberParamSchema;

/** `:version` where a route also takes `approved`: the approved version, whichever it is now. */
export const versionOrApprovedParamSchema = z.string().transform((v, ctx): number | 'approved' => {
  if (v === 'approved') return v;
  const n = versionParamSchema.safeParse(v);
  if (n.success) return n.data;
  ctx.addIssue({ code: 'custom', message: `must be 'approved' or a whole number from 0 to ${PG_INTEGER_MAX}` });
  return z.NEVER;
});

/** A study id in a URL: the length said first, since the pattern's message does not mention it. */
export const studyIdParamSchema = z.string().max(63, 'a study id is at most 63 characters').pipe(studyIdSchema);

/** A hospital site id in a URL: what `POST /api/sites` and its slugs make (and no longer than an invite's siteId). */
export const siteIdParamSchema = z.string().regex(/^[a-z0-9-]{1,64}$/, 'a site id is 1 to 64 lower-case letters, digits or dashes');

/** A study participant's id in a URL (the server makes them with randomUUID). */
export const participantIdParamSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a participant id is 1 to 64 letters, digits, dashes or underscores');

/** An invite's id in a URL (the server makes them with randomUUID). */
export const inviteIdParamSchema = z.uuid({ error: 'an invite id is a UUID' });

export const optimizerSchema = z.enum(['sgd', 'adam']);
export type OptimizerName = z.infer<typeof optimizerSchema>;

/** Local training settings a study hands to every participant. */
export const trainingConfigSchema = z.object({
  localEpochs: z.number().int().min(1).max(100),
  batchSize: z.number().int().min(1).max(4096),
  learningRate: z.number().positive().max(10),
  /** The local optimiser; absent means the template model's own. Older clients ignore it. */
  optimizer: optimizerSchema.optional(),
  /** FedProx: weight of the proximal term `mu/2·‖w − w_global‖²` in the local loss; absent or 0 means none. */
  fedProxMu: z.number().min(0).max(10).optional(),
});
export type TrainingConfig = z.infer<typeof trainingConfigSchema>;

/** What happens to an update that arrives after its round closed. */
export const stragglerPolicySchema = z.discriminatedUnion('policy', [
  z.strictObject({ policy: z.literal('drop') }),
  z.strictObject({
    policy: z.literal('accept-late'),
    /** How many versions behind the current model a late update may be. */
    maxStaleness: z.number().int().min(1, 'maxStaleness must be at least 1 version').max(1_000),
    /** The factor its sample weight is multiplied by. */
    weight: z.number().gt(0, 'a late update needs a weight above 0').max(1, 'a late update cannot weigh more than 1'),
  }),
]);
export type StragglerPolicy = z.infer<typeof stragglerPolicySchema>;

/** A site's weight is capped at this factor × the round's median reported record count unless a study says otherwise. */
export const DEFAULT_WEIGHT_CAP_FACTOR = 2;

/** Every study setting, without defaults: what a create request or a configuration change may hold. */
const studyConfigShape = {
  ...trainingConfigSchema.pick({ localEpochs: true, batchSize: true, learningRate: true }).shape,
  optimizer: optimizerSchema,
  rounds: z.number().int().min(1).max(10_000),
  /** Fewest participants online for a round to open; at least this many are sampled. */
  minParticipants: z.number().int().min(1).max(10_000),
  /** Milliseconds a round stays open before its deadline policy applies. */
  roundDeadlineMs: z.number().int().min(1_000, 'roundDeadlineMs must be at least 1000 (1 s)').max(7 * 24 * 3600 * 1000, 'roundDeadlineMs is at most 7 days'),
  /** Fraction of each site's records held out for federated evaluation. */
  validationFraction: z.number().min(0.05).max(0.5),
  /** Seed of the initial model, of every site's train/validation split and of participant sampling. */
  seed: z.number().int().min(0).max(2 ** 31 - 1),
  /** Share of the online participants sampled for each round (never fewer than minParticipants). */
  participantFraction: z.number().gt(0, 'participantFraction must be above 0').max(1, 'participantFraction is at most 1 (every online site)'),
  /** Updates a round needs to be aggregated at its deadline. */
  minUpdates: z.number().int().min(1, 'minUpdates must be at least 1').max(10_000),
  straggler: stragglerPolicySchema,
  /** Sites evaluate every Nth version. */
  evaluateEvery: z.number().int().min(1, 'evaluateEvery must be at least 1').max(10_000),
  strategy: strategyConfigSchema,
  /**
   * How each update's L2 norm is bounded before it is summed (shared/fl/clipping.ts); the bound is
   * fixed when a round opens. Default: adaptive clipping to the median update norm.
   */
  clipping: clippingSchema,
  /**
   * No update weighs more than this factor times the median training-record count the round's
   * sampled sites reported when they joined (fixed when the round opens); null: uncapped.
   */
  weightCapFactor: z.number().min(1, 'weightCapFactor must be at least 1 (or null for no cap)').max(1_000).nullable(),
  /** The `median` clipping rule's factor, as first configured: the same as `clipping: { mode: 'median', factor }`. */
  normBoundFactor: z.number().positive('normBoundFactor must be above 0 (or null for no bound)').max(1_000).nullable(),
  /** FedProx proximal coefficient sent to the clients; 0 is plain local training. */
  fedProxMu: z.number().min(0, 'fedProxMu cannot be negative').max(10),
  /** An update whose L2 norm exceeds this is refused at upload (with its norm); null: no limit. */
  maxUpdateNorm: z.number().positive('maxUpdateNorm must be above 0 (or null for no limit)').nullable(),
};

/** Part of a study configuration: a create request's settings, or a change. Unknown keys are refused. */
export const studyConfigPatchSchema = z.strictObject(studyConfigShape).partial();
export type StudyConfigPatch = z.infer<typeof studyConfigPatchSchema>;
export type StudyConfigPatchInput = z.input<typeof studyConfigPatchSchema>;

/**
 * A study's configuration. Every setting added after the first release has a default, so a stored
 * configuration from before it still parses (read stored ones through this schema).
 * `minUpdates` defaults to `minParticipants`; `fedProxMu` to the `fedprox` strategy's `mu`, else 0.
 */
export const studyConfigSchema = z
  .object({
    ...studyConfigShape,
    // The template's model spec decides this default (see shared/tasks `taskTemplateSchema`).
    optimizer: optimizerSchema.default('adam'),
    participantFraction: studyConfigShape.participantFraction.default(1),
    minUpdates: studyConfigShape.minUpdates.optional(),
    straggler: stragglerPolicySchema.default({ policy: 'drop' }),
    evaluateEvery: studyConfigShape.evaluateEvery.default(1),
    strategy: strategyConfigSchema.default(defaultStrategyConfig),
    clipping: clippingSchema.optional(),
    weightCapFactor: studyConfigShape.weightCapFactor.default(DEFAULT_WEIGHT_CAP_FACTOR),
    normBoundFactor: studyConfigShape.normBoundFactor.default(null),
    maxUpdateNorm: studyConfigShape.maxUpdateNorm.default(null),
    fedProxMu: studyConfigShape.fedProxMu.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.minUpdates !== undefined && c.minUpdates > c.minParticipants)
      ctx.addIssue({
        code: 'custom',
        path: ['minUpdates'],
        message: `minUpdates (${c.minUpdates}) cannot exceed minParticipants (${c.minParticipants}): a round may sample only minParticipants sites`,
      });
    if (c.evaluateEvery > c.rounds)
      ctx.addIssue({ code: 'custom', path: ['evaluateEvery'], message: `evaluateEvery (${c.evaluateEvery}) exceeds rounds (${c.rounds}): no round would be evaluated` });
    if (c.straggler.policy === 'accept-late' && c.straggler.maxStaleness >= c.rounds)
      ctx.addIssue({
        code: 'custom',
        path: ['straggler', 'maxStaleness'],
        message: `straggler.maxStaleness (${c.straggler.maxStaleness}) must be below rounds (${c.rounds})`,
      });
    if (c.strategy.name === 'fedprox' && c.fedProxMu !== undefined && c.fedProxMu !== c.strategy.options.mu)
      ctx.addIssue({
        code: 'custom',
        path: ['fedProxMu'],
        message: `fedProxMu (${c.fedProxMu}) differs from the fedprox strategy's mu (${c.strategy.options.mu}): set one, or both to the same value`,
      });
    const minUpdates = c.minUpdates ?? c.minParticipants;
    // Refinements run over options that already failed their own checks: measure only valid ones.
    const needs = strategyConfigSchema.safeParse(c.strategy).success ? createStrategy(c.strategy).minUpdates : 0;
    if (minUpdates < needs)
      ctx.addIssue({
        code: 'custom',
        path: ['minUpdates'],
        message: `the ${c.strategy.name} strategy needs at least ${needs} updates per round; minUpdates is ${minUpdates}`,
      });
    const strategyBound = (c.strategy.options as { normBound?: { factor: number } | null }).normBound ?? null;
    if (c.normBoundFactor !== null && strategyBound !== null && strategyBound.factor !== c.normBoundFactor)
      ctx.addIssue({
        code: 'custom',
        path: ['normBoundFactor'],
        message: `normBoundFactor (${c.normBoundFactor}) differs from strategy.options.normBound.factor (${strategyBound.factor}): set the norm bound once`,
      });
    const factor = c.normBoundFactor ?? strategyBound?.factor ?? null;
    if (factor !== null && c.clipping && !(c.clipping.mode === 'median' && c.clipping.factor === factor))
      ctx.addIssue({
        code: 'custom',
        path: ['clipping'],
        message: `clipping (${c.clipping.mode}) differs from the norm bound factor ${factor} also set: set the norm bound once (clipping: { mode: 'median', factor: ${factor} } is the same rule)`,
      });
  })
  .transform((c) => ({
    ...c,
    clipping: resolveClipping(c.clipping, c.normBoundFactor ?? (c.strategy.options as { normBound?: { factor: number } | null }).normBound?.factor ?? null),
    minUpdates: c.minUpdates ?? c.minParticipants,
    fedProxMu: c.fedProxMu ?? (c.strategy.name === 'fedprox' ? c.strategy.options.mu : 0),
  }));
export type StudyConfig = z.infer<typeof studyConfigSchema>;


/** The clipping rule a configuration means: its own, else the legacy factor's median rule, else adaptive. */
function resolveClipping(clipping: Clipping | undefined, factor: number | null): Clipping {
  if (clipping) return clipping;
  return factor !== null ? { mode: 'median', factor } : defaultClipping;
}
export type StudyConfigInput = z.input<typeof studyConfigSchema>;

/**
 * `base` with `patch` applied, as input for `studyConfigSchema`. A setting whose default derives from
 * another (minUpdates from minParticipants, fedProxMu from the fedprox strategy's mu) keeps following
 * it when it still equals its derived value and the patch changes only the setting it derives from.
 */
export function mergeStudyConfig(base: StudyConfig, patch: StudyConfigPatch): StudyConfigInput {
  const merged: StudyConfigInput = { ...base, ...patch };
  if (patch.minParticipants !== undefined && patch.minUpdates === undefined && base.minUpdates === base.minParticipants) delete merged.minUpdates;
  // The legacy factor and the clipping rule are one setting: changing either replaces the other.
  if (patch.normBoundFactor !== undefined && patch.clipping === undefined) delete merged.clipping;
  if (patch.clipping !== undefined && patch.normBoundFactor === undefined) merged.normBoundFactor = null;
  const derivedMu = base.strategy.name === 'fedprox' ? base.strategy.options.mu : 0;
  if (patch.strategy !== undefined && patch.fedProxMu === undefined && base.fedProxMu === derivedMu) delete merged.fedProxMu;
  return merged;
}

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
  /** Whether sites evaluate this version (the study's evaluateEvery; the final version always). */
  evaluate: z.boolean().optional(),
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
  /** The clinical metrics of the same predictions; their sample count must match. */
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
  /** The round's clipping rule and bound, fixed when it opened (null bound: unclipped). */
  clipMode: z.enum(['adaptive', 'fixed', 'median', 'none']).nullable().default(null),
  clipNorm: z.number().nullable().default(null),
  /** Updates scaled down to the bound, each with its norm as received (closed rounds). */
  clipped: z.array(z.object({ participantId: z.string(), norm: z.number() })).default([]),
  /** Updates weighted by fewer samples than they declared (the round's sample cap). */
  capped: z.array(z.object({ participantId: z.string(), declared: z.number() })).default([]),
  sampleCap: z.number().nullable().default(null),
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
