import { z } from 'zod';
import { clippingSchema, defaultClipping, type Clipping } from '../fl/clipping';
import { recordPrivacySchema } from '../fl/privacy/recordLevel';
import { sitePrivacySchema, studySpent, UNAVAILABLE_UNDER_DP } from '../fl/privacy/sitePrivacy';
import { MIN_RING_CLIP } from '../fl/secagg/distributedNoise';
import { secureAggregationSchema } from './secagg';
import { createStrategy, defaultStrategyConfig, strategyConfigSchema } from '../fl/registry';

/*
 * A study's configuration: every setting, its default and how settings constrain each other. Read
 * stored configurations through `studyConfigSchema`, so a setting added later gets its default.
 */

export const optimizerSchema = z.enum(['sgd', 'adam']);
export type OptimizerName = z.infer<typeof optimizerSchema>;

/** Local training settings a study hands to every participant. */
export const trainingConfigSchema = z.object({
  localEpochs: z.number().int().min(1).max(100),
  /**
   * Local work counted in optimiser steps rather than epochs (as FLamby's protocol counts it): each
   * site takes exactly this many mini-batch steps a round, cycling through its shuffled records as
   * often as needed, whatever its size, so a small site is not starved of work; `localEpochs` is then
   * unused. Absent: epochs. Older clients ignore it and train `localEpochs` epochs.
   */
  localSteps: z.number().int('localSteps must be a whole number').min(1, 'localSteps must be at least 1').max(100_000, 'localSteps is at most 100000').optional(),
  batchSize: z.number().int().min(1).max(4096),
  learningRate: z.number().positive().max(10),
  /** The local optimiser; absent means the template model's own. Older clients ignore it. */
  optimizer: optimizerSchema.optional(),
  /** FedProx: weight of the proximal term `mu/2·‖w − w_global‖²` in the local loss; absent or 0 means none. */
  fedProxMu: z.number().min(0).max(10).optional(),
  /**
   * Record-level differential privacy (DP-SGD, shared/training/dpsgd.ts): this site's own settings for
   * this round, set by the server per site. `steps` DP-SGD steps, each on a Poisson sample of the
   * site's records at rate `sampleRate`, every example's gradient clipped to `clipNorm` and the sum
   * noised with standard deviation `noiseMultiplier × clipNorm`. The server has already counted them
   * in the site's record-level budget. Absent: ordinary training.
   */
  dpSgd: z
    .strictObject({
      clipNorm: z.number().positive(),
      noiseMultiplier: z.number().positive(),
      sampleRate: z.number().gt(0).max(1),
      steps: z.number().int().min(1).max(100_000),
    })
    .optional(),
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
  /** Optimiser steps per round instead of epochs (see `trainingConfigSchema`); null in a change: back to epochs. */
  localSteps: trainingConfigSchema.shape.localSteps.unwrap().nullable(),
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
  /**
   * Site-level differential privacy (shared/fl/privacy/sitePrivacy.ts); null: none. Under it the
   * round's sample is Poisson with privacy.sampleRate (participantFraction, minUpdates and
   * weightCapFactor no longer apply), every update is clipped to privacy.clipNorm, and the mean gets
   * Gaussian noise; with secure aggregation, each site adds its share of Skellam noise to its ring input
   * before masking instead (shared/fl/secagg/distributedNoise.ts). Fixed once the study exists.
   */
  privacy: sitePrivacySchema.nullable(),
  /**
   * Record-level differential privacy (DP-SGD in every tab, shared/fl/privacy/recordLevel.ts); null:
   * none. Each site trains with per-example clipping and noise on Poisson-sampled records, and the
   * server accounts every step each site ran in a per-site budget: a site whose next round would pass
   * it is no longer sampled. Independent of `privacy` (site-level) and secure aggregation, which it
   * combines with. Fixed once the study exists.
   */
  recordPrivacy: recordPrivacySchema.nullable(),
  /**
   * Secure aggregation (shared/fl/secagg/protocol.ts): the server learns each round's sum, never one
   * site's update; null: plaintext. Under it, clipping is the sites' own at a fixed norm, and robust
   * rules, late updates and server-side norm checks are unavailable. Fixed once the study exists.
   */
  secureAggregation: secureAggregationSchema.nullable(),
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
    localSteps: studyConfigShape.localSteps.optional(),
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
    privacy: studyConfigShape.privacy.default(null),
    recordPrivacy: studyConfigShape.recordPrivacy.default(null),
    secureAggregation: studyConfigShape.secureAggregation.default(null),
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
    if (c.secureAggregation) checkSecureAggregation(c, factor, ctx);
    if (c.privacy) checkPrivacy(c, factor, ctx);
    else if (!c.secureAggregation && factor !== null && c.clipping && !(c.clipping.mode === 'median' && c.clipping.factor === factor))
      ctx.addIssue({
        code: 'custom',
        path: ['clipping'],
        message: `clipping (${c.clipping.mode}) differs from the norm bound factor ${factor} also set: set the norm bound once (clipping: { mode: 'median', factor: ${factor} } is the same rule)`,
      });
  })
  .transform(({ localSteps, ...c }) => ({
    ...c,
    // Absent rather than null in epochs mode, so configurations stored before steps existed read unchanged.
    ...(localSteps != null ? { localSteps } : {}),
    // Under secure aggregation the sites add the noise (distributed Skellam noise), and its accountant counts it.
    privacy: c.privacy ? (c.secureAggregation ? { ...c.privacy, distributed: true as const } : (({ distributed: _, ...p }) => p)(c.privacy)) : null,
    clipping: c.privacy ? ({ mode: 'fixed', norm: c.privacy.clipNorm } as const) : resolveClipping(c.clipping, c.normBoundFactor ?? (c.strategy.options as { normBound?: { factor: number } | null }).normBound?.factor ?? null),
    minUpdates: c.minUpdates ?? c.minParticipants,
    fedProxMu: c.fedProxMu ?? (c.strategy.name === 'fedprox' ? c.strategy.options.mu : 0),
  }));
export type StudyConfig = z.infer<typeof studyConfigSchema>;

type ParsedConfig = z.infer<z.ZodObject<typeof studyConfigShape>>;

/** What differential privacy rules out, each with the reason (the study form shows the same). */
function checkPrivacy(c: Omit<ParsedConfig, 'clipping' | 'minUpdates' | 'fedProxMu' | 'localSteps'> & { clipping?: Clipping }, factor: number | null, ctx: z.RefinementCtx): void {
  const p = c.privacy!;
  const meanBased = strategyConfigSchema.safeParse(c.strategy).success && !!createStrategy(c.strategy).meanStep;
  if (!meanBased) ctx.addIssue({ code: 'custom', path: ['strategy'], message: `the ${c.strategy.name} strategy is unavailable under differential privacy: ${UNAVAILABLE_UNDER_DP.strategy}` });
  if (c.straggler.policy !== 'drop') ctx.addIssue({ code: 'custom', path: ['straggler'], message: `accept-late is unavailable under differential privacy: ${UNAVAILABLE_UNDER_DP.straggler}` });
  const fixedAtClip = c.clipping?.mode === 'fixed' && c.clipping.norm === p.clipNorm;
  if ((c.clipping && !fixedAtClip) || factor !== null)
    ctx.addIssue({ code: 'custom', path: ['clipping'], message: `a clipping rule of its own is unavailable under differential privacy: ${UNAVAILABLE_UNDER_DP.clipping}` });
  const fractionBits = c.secureAggregation?.fractionBits ?? null;
  if (fractionBits !== null && p.clipNorm * 2 ** fractionBits < MIN_RING_CLIP)
    ctx.addIssue({
      code: 'custom',
      path: ['secureAggregation', 'fractionBits'],
      message: `under differential privacy the clip in ring units, privacy.clipNorm × 2^fractionBits, must be at least 2^12 (the distributed noise's accountant assumes it): set at least ${Math.ceil(12 - Math.log2(p.clipNorm))} fraction bits, or none`,
    });
  const first = studySpent(c.secureAggregation ? { ...p, distributed: true } : p, 1).epsilon;
  if (first > p.epsilonBudget)
    ctx.addIssue({
      code: 'custom',
      path: ['privacy', 'epsilonBudget'],
      message: `the budget ε ${p.epsilonBudget} allows no round: one round at q ${p.sampleRate} and noise ${p.noiseMultiplier} spends ε ${first.toPrecision(4)}; raise the noise or the budget`,
    });
}

/** Why settings that need the server to see single updates are unavailable under secure aggregation. */
export const UNAVAILABLE_UNDER_SECURE_AGGREGATION = {
  strategy: 'robust rules (median, trimmed mean, Krum) need every update, and the server sees only their sum: under secure aggregation only the mean rules are available',
  straggler: 'a late update would need a round of its own to be masked and unmasked in: under secure aggregation late updates are dropped',
  clipping: 'the server sees no single update, so it can neither measure norms (adaptive, median) nor clip: each site clips its own update to a fixed norm, which the server cannot check',
  maxUpdateNorm: 'the server sees no single update, so it cannot measure one: set no maxUpdateNorm',
} as const;

function checkSecureAggregation(c: Omit<ParsedConfig, 'clipping' | 'minUpdates' | 'fedProxMu' | 'localSteps'> & { clipping?: Clipping }, factor: number | null, ctx: z.RefinementCtx): void {
  const meanBased = strategyConfigSchema.safeParse(c.strategy).success && !!createStrategy(c.strategy).meanStep;
  const why = UNAVAILABLE_UNDER_SECURE_AGGREGATION;
  if (!meanBased) ctx.addIssue({ code: 'custom', path: ['strategy'], message: `the ${c.strategy.name} strategy is unavailable under secure aggregation: ${why.strategy}` });
  if (c.straggler.policy !== 'drop') ctx.addIssue({ code: 'custom', path: ['straggler'], message: `accept-late is unavailable under secure aggregation: ${why.straggler}` });
  // Under differential privacy the sites clip to privacy.clipNorm (checkPrivacy checks the clipping).
  if (!c.privacy && ((c.clipping && c.clipping.mode !== 'fixed') || factor !== null || !c.clipping))
    ctx.addIssue({ code: 'custom', path: ['clipping'], message: `secure aggregation needs clipping: { mode: 'fixed', norm }: ${why.clipping}` });
  if (c.maxUpdateNorm !== null) ctx.addIssue({ code: 'custom', path: ['maxUpdateNorm'], message: `maxUpdateNorm is unavailable under secure aggregation: ${why.maxUpdateNorm}` });
}

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
  // Under secure aggregation the sites clip at a fixed norm: an inherited adaptive rule gives way to its start.
  if (merged.secureAggregation && patch.clipping === undefined && base.clipping.mode === 'adaptive' && base.clipping.initialNorm !== null)
    merged.clipping = { mode: 'fixed', norm: base.clipping.initialNorm };
  // Under differential privacy the clip is privacy.clipNorm: a clipping rule merely inherited gives way.
  if (merged.privacy && patch.clipping === undefined) {
    delete merged.clipping;
    if (patch.normBoundFactor === undefined) merged.normBoundFactor = null;
  }
  const derivedMu = base.strategy.name === 'fedprox' ? base.strategy.options.mu : 0;
  if (patch.strategy !== undefined && patch.fedProxMu === undefined && base.fedProxMu === derivedMu) delete merged.fedProxMu;
  return merged;
}
