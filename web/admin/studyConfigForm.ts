import { strategies } from '../../shared/fl/registry';
import {
  mergeStudyConfig,
  studyConfigPatchSchema,
  studyConfigSchema,
  type OptimizerName,
  type StudyConfig,
  type StudyConfigPatch,
  type StudyConfigPatchInput,
} from '../../shared/protocol/schemas';

export const STRATEGY_NAMES = Object.keys(strategies) as (keyof typeof strategies)[];

/** The configuration form's fields as typed: strings, so a half-typed number stays on screen. */
export interface ConfigForm {
  rounds: string;
  minParticipants: string;
  minUpdates: string;
  participantFraction: string;
  roundDeadlineSeconds: string;
  localEpochs: string;
  batchSize: string;
  learningRate: string;
  optimizer: OptimizerName;
  strategy: string;
  evaluateEvery: string;
  straggler: 'drop' | 'accept-late';
  maxStaleness: string;
  lateWeight: string;
  fedProxMu: string;
  /** Blank: no norm bound. */
  normBoundFactor: string;
  validationFraction: string;
  seed: string;
}

export function formFromConfig(c: StudyConfig): ConfigForm {
  return {
    rounds: String(c.rounds),
    minParticipants: String(c.minParticipants),
    minUpdates: String(c.minUpdates),
    participantFraction: String(c.participantFraction),
    roundDeadlineSeconds: String(c.roundDeadlineMs / 1000),
    localEpochs: String(c.localEpochs),
    batchSize: String(c.batchSize),
    learningRate: String(c.learningRate),
    optimizer: c.optimizer,
    strategy: c.strategy.name,
    evaluateEvery: String(c.evaluateEvery),
    straggler: c.straggler.policy,
    maxStaleness: String(c.straggler.policy === 'accept-late' ? c.straggler.maxStaleness : 1),
    lateWeight: String(c.straggler.policy === 'accept-late' ? c.straggler.weight : 0.5),
    fedProxMu: String(c.fedProxMu),
    normBoundFactor: c.normBoundFactor === null ? '' : String(c.normBoundFactor),
    validationFraction: String(c.validationFraction),
    seed: String(c.seed),
  };
}

/** A typed number; blank or garbage becomes NaN, which the schema refuses with the field's name. */
const num = (s: string) => (s.trim() === '' ? Number.NaN : Number(s));

/**
 * The settings of `form` that differ from `base`, as a patch: settings left alone are not sent, so
 * the ones that derive from others (minUpdates, fedProxMu) keep following them.
 */
export function patchFromForm(form: ConfigForm, base: StudyConfig): StudyConfigPatchInput {
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
    normBoundFactor: form.normBoundFactor.trim() === '' ? null : num(form.normBoundFactor),
    validationFraction: num(form.validationFraction),
    seed: num(form.seed),
  };
  const patch: StudyConfigPatchInput = {};
  for (const [key, value] of Object.entries(next) as [keyof StudyConfigPatchInput, unknown][])
    if (JSON.stringify(value) !== JSON.stringify(base[key as keyof StudyConfig])) (patch as Record<string, unknown>)[key] = value;
  // A new strategy starts from its default options; the same one keeps the study's.
  if (form.strategy !== base.strategy.name) patch.strategy = { name: form.strategy, options: {} } as StudyConfigPatchInput['strategy'];
  // A derived setting left out follows its source on the server: send it when the form says otherwise.
  const resolved = studyConfigSchema.safeParse(mergeStudyConfig(base, patch as StudyConfigPatch));
  if (resolved.success)
    for (const key of ['minUpdates', 'fedProxMu'] as const)
      if (!(key in patch) && resolved.data[key] !== next[key]) patch[key] = next[key];
  return patch;
}

/** `form` with `change` applied; minUpdates keeps following minParticipants while they are equal. */
export function applyFormChange(form: ConfigForm, change: Partial<ConfigForm>): ConfigForm {
  const following = form.minUpdates === form.minParticipants;
  const next = { ...form, ...change };
  if (change.minParticipants !== undefined && change.minUpdates === undefined && following) next.minUpdates = change.minParticipants;
  return next;
}

/** What the server would say about this patch over `base`: one line per problem, none when it is valid. */
export function configProblems(base: StudyConfig, patch: StudyConfigPatchInput): string[] {
  const shape = studyConfigPatchSchema.safeParse(patch);
  if (!shape.success) return shape.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
  const whole = studyConfigSchema.safeParse(mergeStudyConfig(base, shape.data as StudyConfigPatch));
  return whole.success ? [] : whole.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
}
