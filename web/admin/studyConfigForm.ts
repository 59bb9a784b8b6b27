import { clippingSchema, type Clipping } from '../../shared/fl/clipping';
import { createStrategy, strategies, type StrategyConfigInput } from '../../shared/fl/registry';
import {
  mergeStudyConfig,
  studyConfigPatchSchema,
  studyConfigSchema,
  type OptimizerName,
  type StudyConfig,
  type StudyConfigPatch,
  type StudyConfigPatchInput,
} from '../../shared/protocol/schemas';
import type { LocalWork } from '../../shared/fl/privacy/recordPlan';
import { recordPrivacyFormFrom, recordPrivacyFromForm, sameRecordPrivacy, type RecordPrivacyForm } from './recordPrivacyForm';
import { privacyFormFrom, privacyFormProblems, privacyFromForm, samePrivacy, type PrivacyForm } from './privacyForm';

export const STRATEGY_NAMES = Object.keys(strategies) as (keyof typeof strategies)[];

/** The mean rules: the only ones differential privacy can account for (robust rules pick updates by their values). */
export const MEAN_STRATEGIES: ReadonlySet<string> = new Set(STRATEGY_NAMES.filter((n) => !!createStrategy({ name: n } as StrategyConfigInput).meanStep));

/** One of a strategy's own settings, as the form edits it. */
export interface StrategyOptionField {
  key: string;
  label: string;
  hint: string;
  /** Blank on the form means "not given": the rule derives it. */
  optional?: boolean;
}

const serverLearningRate = { key: 'serverLearningRate', label: 'Server learning rate', hint: 'η: the server optimiser’s step on the mean update (FedAdam, FedYogi, FedAdagrad: in units of round 1’s mean update).' };
const beta1 = { key: 'beta1', label: 'Server β₁', hint: 'First-moment decay [0–1).' };
const adaptive = [
  serverLearningRate,
  beta1,
  { key: 'tau', label: 'Server τ', hint: 'Adaptivity: bounds the step where v is small.' },
  { key: 'initialAccumulator', label: 'Initial v', hint: 'Starting second moment; blank for τ².', optional: true },
];
const byzantine = { key: 'byzantine', label: 'Byzantine f', hint: 'Updates to tolerate as hostile.' };

/**
 * The settings of each strategy that the form edits. Its norm bound and FedProx's μ are study
 * settings of their own (`clipping`, `fedProxMu`), so they are not repeated here.
 */
export const STRATEGY_OPTION_FIELDS: Record<(typeof STRATEGY_NAMES)[number], readonly StrategyOptionField[]> = {
  fedavg: [],
  fedavgm: [serverLearningRate, { key: 'momentum', label: 'Server momentum β', hint: 'Share of the last step kept [0–1).' }],
  fedprox: [],
  fedadam: [...adaptive.slice(0, 2), { key: 'beta2', label: 'Server β₂', hint: 'Second-moment decay [0–1).' }, ...adaptive.slice(2)],
  fedyogi: [...adaptive.slice(0, 2), { key: 'beta2', label: 'Server β₂', hint: 'Second-moment decay [0–1).' }, ...adaptive.slice(2)],
  fedadagrad: adaptive,
  median: [],
  'trimmed-mean': [{ key: 'trimFraction', label: 'Trim fraction β', hint: 'Share dropped at each end, below 0.5.' }],
  krum: [byzantine],
  'multi-krum': [byzantine, { key: 'select', label: 'Selected m', hint: 'Best-scored updates averaged; blank for n − f.', optional: true }],
};

const optionFields = (strategy: string): readonly StrategyOptionField[] => STRATEGY_OPTION_FIELDS[strategy as keyof typeof STRATEGY_OPTION_FIELDS] ?? [];

/** A strategy's editable settings as the form shows them, from its options (defaults where none are given). */
export function strategyOptionsForm(strategy: string, options: Record<string, unknown> = {}): Record<string, string> {
  const entry = strategies[strategy as keyof typeof strategies];
  const filled = { ...(entry ? (entry.options.parse({}) as Record<string, unknown>) : {}), ...options };
  return Object.fromEntries(optionFields(strategy).map((f) => [f.key, filled[f.key] === undefined ? '' : String(filled[f.key])]));
}

/** The configuration form's fields as typed: strings, so a half-typed number stays on screen. */
export interface ConfigForm {
  rounds: string;
  minParticipants: string;
  minUpdates: string;
  participantFraction: string;
  roundDeadlineSeconds: string;
  /** Local work per round counted in epochs (`localEpochs`) or in optimiser steps (`localSteps`). */
  localWork: 'epochs' | 'steps';
  localEpochs: string;
  localSteps: string;
  batchSize: string;
  learningRate: string;
  optimizer: OptimizerName;
  strategy: string;
  /** The strategy's own settings (`STRATEGY_OPTION_FIELDS`), by option name. */
  strategyOptions: Record<string, string>;
  evaluateEvery: string;
  straggler: 'drop' | 'accept-late';
  maxStaleness: string;
  lateWeight: string;
  fedProxMu: string;
  /** The clipping rule (shared/fl/clipping.ts) and its one setting the form edits: γ, the norm or the factor. */
  clipping: Clipping['mode'];
  clippingValue: string;
  /** Blank: weights uncapped. */
  weightCapFactor: string;
  validationFraction: string;
  seed: string;
  /** Site-level differential privacy (./privacyForm.ts): off unless the admin turns it on; fixed once the study exists. */
  privacy: PrivacyForm;
  /** Secure aggregation (shared/fl/secagg): off unless the admin turns it on; fixed once the study exists. */
  secureAggregation: boolean;
  /** Record-level differential privacy, DP-SGD in every tab (./recordPrivacyForm.ts): off unless turned on; fixed once the study exists. */
  recordPrivacy: RecordPrivacyForm;
}

export function formFromConfig(c: StudyConfig): ConfigForm {
  return {
    rounds: String(c.rounds),
    minParticipants: String(c.minParticipants),
    minUpdates: String(c.minUpdates),
    participantFraction: String(c.participantFraction),
    roundDeadlineSeconds: String(c.roundDeadlineMs / 1000),
    localWork: c.localSteps !== undefined ? 'steps' : 'epochs',
    localEpochs: String(c.localEpochs),
    localSteps: String(c.localSteps ?? DEFAULT_LOCAL_STEPS),
    batchSize: String(c.batchSize),
    learningRate: String(c.learningRate),
    optimizer: c.optimizer,
    strategy: c.strategy.name,
    strategyOptions: strategyOptionsForm(c.strategy.name, c.strategy.options),
    evaluateEvery: String(c.evaluateEvery),
    straggler: c.straggler.policy,
    maxStaleness: String(c.straggler.policy === 'accept-late' ? c.straggler.maxStaleness : 1),
    lateWeight: String(c.straggler.policy === 'accept-late' ? c.straggler.weight : 0.5),
    fedProxMu: String(c.fedProxMu),
    clipping: c.clipping.mode,
    clippingValue: clippingValueOf(c.clipping),
    weightCapFactor: c.weightCapFactor === null ? '' : String(c.weightCapFactor),
    validationFraction: String(c.validationFraction),
    seed: String(c.seed),
    privacy: privacyFormFrom(c.privacy),
    secureAggregation: c.secureAggregation !== null && c.secureAggregation !== undefined,
    recordPrivacy: recordPrivacyFormFrom(c.recordPrivacy),
  };
}

/** The local work as typed (NaN for garbage): what the record-level privacy plan counts steps by. */
export function localWorkOf(form: Pick<ConfigForm, 'batchSize' | 'localEpochs' | 'localSteps' | 'localWork'>): LocalWork {
  return { batchSize: num(form.batchSize), localEpochs: num(form.localEpochs), localSteps: form.localWork === 'steps' ? num(form.localSteps) : null };
}

/** Steps the form offers on switching to steps: FLamby's benchmarks run 100 local updates a round. */
export const DEFAULT_LOCAL_STEPS = 100;

/** The one clipping setting the form shows for a rule. */
function clippingValueOf(c: Clipping): string {
  if (c.mode === 'adaptive') return String(c.targetQuantile);
  if (c.mode === 'fixed') return String(c.norm);
  if (c.mode === 'median') return String(c.factor);
  return '';
}

/** What each rule's one field is, as the form labels it; null for a rule without one. */
export function clippingValueField(mode: Clipping['mode']): { label: string; hint: string; fallback: string } | null {
  if (mode === 'adaptive') return { label: 'Target quantile γ', hint: 'Share of updates meant to fall within the bound (0–1).', fallback: '0.5' };
  if (mode === 'fixed') return { label: 'Clipping norm', hint: 'Every update is clipped to this L2 norm.', fallback: '' };
  if (mode === 'median') return { label: 'Median factor', hint: 'Clip to this × the previous round’s median norm.', fallback: '2' };
  return null;
}

/** The clipping rule the form describes, keeping the study's other adaptive settings. */
function clippingFromForm(form: ConfigForm, base: StudyConfig): Clipping {
  const value = num(form.clippingValue);
  switch (form.clipping) {
    case 'adaptive': {
      const kept = base.clipping.mode === 'adaptive' ? base.clipping : clippingSchema.parse({ mode: 'adaptive' });
      return { ...kept, targetQuantile: value } as Clipping;
    }
    case 'fixed':
      return { mode: 'fixed', norm: value };
    case 'median':
      return { mode: 'median', factor: value };
    default:
      return { mode: 'none' };
  }
}

/** A typed number; blank or garbage becomes NaN, which the schema refuses with the field's name. */
const num = (s: string) => (s.trim() === '' ? Number.NaN : Number(s));

/**
 * The settings of `form` that differ from `base`, as a patch: settings left alone are not sent, so
 * the ones that derive from others (minUpdates, fedProxMu) keep following them.
 */
export function patchFromForm(form: ConfigForm, base: StudyConfig): StudyConfigPatchInput {
  const privacy = privacyFromForm(form.privacy, num(form.rounds), form.secureAggregation);
  const next: StudyConfigPatchInput = {
    rounds: num(form.rounds),
    minParticipants: num(form.minParticipants),
    minUpdates: num(form.minUpdates),
    participantFraction: num(form.participantFraction),
    roundDeadlineMs: Math.round(num(form.roundDeadlineSeconds) * 1000),
    localEpochs: num(form.localEpochs),
    batchSize: num(form.batchSize),
    learningRate: num(form.learningRate),
    optimizer: form.optimizer,
    evaluateEvery: num(form.evaluateEvery),
    straggler: form.straggler === 'drop' ? { policy: 'drop' } : { policy: 'accept-late', maxStaleness: num(form.maxStaleness), weight: num(form.lateWeight) },
    fedProxMu: num(form.fedProxMu),
    // Under differential privacy the clip is privacy.clipNorm: no rule of the study's own is sent.
    ...(privacy ? {} : { clipping: clippingFromForm(form, base) }),
    weightCapFactor: form.weightCapFactor.trim() === '' ? null : num(form.weightCapFactor),
    validationFraction: num(form.validationFraction),
    seed: num(form.seed),
  };
  const patch: StudyConfigPatchInput = {};
  for (const [key, value] of Object.entries(next) as [keyof StudyConfigPatchInput, unknown][])
    if (JSON.stringify(value) !== JSON.stringify(base[key as keyof StudyConfig])) (patch as Record<string, unknown>)[key] = value;
  // Back to epochs is `localSteps: null`; the epochs typed stay the study's either way.
  const localSteps = form.localWork === 'steps' ? num(form.localSteps) : null;
  if (!Object.is(localSteps, base.localSteps ?? null)) patch.localSteps = localSteps;
  if (!samePrivacy(privacy, base.privacy)) patch.privacy = privacy;
  if (form.secureAggregation !== !!base.secureAggregation) patch.secureAggregation = form.secureAggregation ? { fractionBits: null } : null;
  const recordPrivacy = recordPrivacyFromForm(form.recordPrivacy);
  if (!sameRecordPrivacy(recordPrivacy, base.recordPrivacy)) patch.recordPrivacy = recordPrivacy as StudyConfigPatchInput['recordPrivacy'];
  // A new strategy sends the settings that differ from its defaults; the same one keeps the study's
  // other options (its norm bound, FedProx's μ) and sends the whole set when one changed.
  const edited = strategyOptionsFromForm(form);
  if (form.strategy !== base.strategy.name) {
    const defaults = strategyOptionsFromForm({ strategy: form.strategy, strategyOptions: strategyOptionsForm(form.strategy) });
    const options = Object.fromEntries(Object.entries(edited).filter(([k, v]) => !Object.is(v, defaults[k])));
    patch.strategy = { name: form.strategy, options } as StudyConfigPatchInput['strategy'];
  } else {
    const current = base.strategy.options as Record<string, unknown>;
    const keys = optionFields(form.strategy).map((f) => f.key);
    if (keys.some((k) => !Object.is(edited[k], current[k]))) {
      const options: Record<string, unknown> = { ...current, ...edited };
      for (const k of keys) if (edited[k] === undefined) delete options[k];
      patch.strategy = { name: form.strategy, options } as StudyConfigPatchInput['strategy'];
    }
  }
  // A derived setting left out follows its source on the server: send it when the form says otherwise.
  const resolved = studyConfigSchema.safeParse(mergeStudyConfig(base, patch as StudyConfigPatch));
  if (resolved.success)
    for (const key of ['minUpdates', 'fedProxMu'] as const)
      if (!(key in patch) && resolved.data[key] !== next[key]) patch[key] = next[key];
  return patch;
}

/** The strategy settings typed on the form, as numbers (NaN for garbage); a blank optional one left out. */
function strategyOptionsFromForm(form: Pick<ConfigForm, 'strategy' | 'strategyOptions'>): Record<string, number | undefined> {
  return Object.fromEntries(
    optionFields(form.strategy).map((f) => {
      const text = form.strategyOptions[f.key] ?? '';
      return [f.key, f.optional && text.trim() === '' ? undefined : num(text)];
    }),
  );
}

/**
 * `form` with `change` applied; minUpdates keeps following minParticipants while they are equal,
 * another strategy brings its own settings' defaults, and differential privacy turned on drops what
 * it rules out (shared/fl/privacy/sitePrivacy.ts `UNAVAILABLE_UNDER_DP`).
 */
export function applyFormChange(form: ConfigForm, change: Partial<ConfigForm>): ConfigForm {
  const following = form.minUpdates === form.minParticipants;
  const next = { ...form, ...change };
  if (change.strategy !== undefined && change.strategy !== form.strategy && change.strategyOptions === undefined)
    next.strategyOptions = strategyOptionsForm(change.strategy);
  if (change.minParticipants !== undefined && change.minUpdates === undefined && following) next.minUpdates = change.minParticipants;
  if (change.privacy !== undefined && change.privacy.enabled && !form.privacy.enabled) {
    // Turning privacy on leaves only what it can account for: a mean rule, and late updates dropped.
    if (!MEAN_STRATEGIES.has(next.strategy)) {
      next.strategy = 'fedavg';
      next.strategyOptions = strategyOptionsForm('fedavg');
    }
    next.straggler = 'drop';
  }
  if (change.secureAggregation && !form.secureAggregation) {
    // Turning secure aggregation on leaves what works on a sum alone: a mean rule, late updates dropped,
    // and a fixed norm each site clips its own update to.
    if (!MEAN_STRATEGIES.has(next.strategy)) {
      next.strategy = 'fedavg';
      next.strategyOptions = strategyOptionsForm('fedavg');
    }
    next.straggler = 'drop';
    if (next.clipping !== 'fixed') {
      next.clipping = 'fixed';
      next.clippingValue = clippingValueField('fixed')?.fallback ?? '';
    }
  }
  // Steps chosen with none typed start from the usual number.
  if (change.localWork === 'steps' && next.localSteps.trim() === '') next.localSteps = String(DEFAULT_LOCAL_STEPS);
  // Another clipping rule starts from its own field's usual value.
  if (change.clipping !== undefined && change.clipping !== form.clipping && change.clippingValue === undefined) next.clippingValue = clippingValueField(change.clipping)?.fallback ?? '';
  return next;
}

/** What the server would say about this patch over `base`: one line per problem, none when it is valid. */
export function configProblems(base: StudyConfig, patch: StudyConfigPatchInput): string[] {
  const shape = studyConfigPatchSchema.safeParse(patch);
  if (!shape.success) return shape.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
  const whole = studyConfigSchema.safeParse(mergeStudyConfig(base, shape.data as StudyConfigPatch));
  return whole.success ? [] : whole.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
}

/**
 * Every problem of the form: `configProblems` of its patch, and a target ε no noise can meet said as
 * such (rather than as the missing noise multiplier it leaves).
 */
export function formProblems(form: ConfigForm, base: StudyConfig, patch: StudyConfigPatchInput = patchFromForm(form, base)): string[] {
  const own = privacyFormProblems(form.privacy, num(form.rounds), form.secureAggregation);
  const problems = configProblems(base, patch);
  return own.length ? [...own, ...problems.filter((p) => !p.startsWith('privacy.noiseMultiplier:'))] : problems;
}
