import { recordPrivacySchema, stepsWithinBudget, type RecordPrivacy, type RecordPrivacyInput } from '../../shared/fl/privacy/recordLevel';
import { plannedSteps, sampleRateFor, smallestSiteThatTrains, type LocalWork } from '../../shared/fl/privacy/recordPlan';

/**
 * The study form's record-level differential privacy (DP-SGD in every tab, shared/fl/privacy/
 * recordLevel.ts), as typed. Defaults: the seed platform's plan (Opacus: noise multiplier 1.1, max
 * gradient norm 1.0, ε 1.0 per hospital), δ 1e-5.
 */
export interface RecordPrivacyForm {
  enabled: boolean;
  noiseMultiplier: string;
  clipNorm: string;
  epsilonBudget: string;
  delta: string;
}

export const DEFAULT_RECORD_PRIVACY_FORM: RecordPrivacyForm = { enabled: false, noiseMultiplier: '1.1', clipNorm: '1', epsilonBudget: '1', delta: '1e-5' };

export const RECORD_LABELS = {
  noiseMultiplier: 'Noise multiplier z',
  clipNorm: 'Per-record clip C',
  epsilonBudget: 'Budget ε per site',
  delta: 'δ',
} as const;

export function recordPrivacyFormFrom(p: RecordPrivacy | null): RecordPrivacyForm {
  if (!p) return DEFAULT_RECORD_PRIVACY_FORM;
  return { enabled: true, noiseMultiplier: String(p.noiseMultiplier), clipNorm: String(p.clipNorm), epsilonBudget: String(p.epsilonBudget), delta: String(p.delta) };
}

const num = (s: string) => (s.trim() === '' ? Number.NaN : Number(s));

/** The configuration the form means: null when off; numbers as typed (garbage as NaN, which the schema names). */
export function recordPrivacyFromForm(form: RecordPrivacyForm): RecordPrivacyInput | null {
  if (!form.enabled) return null;
  return { noiseMultiplier: num(form.noiseMultiplier), clipNorm: num(form.clipNorm), epsilonBudget: num(form.epsilonBudget), delta: num(form.delta) };
}

/** Whether the form's settings are the study's (a stored configuration has its defaults filled in). */
export function sameRecordPrivacy(form: RecordPrivacyInput | null, stored: RecordPrivacy | null | undefined): boolean {
  if (!form || !stored) return !form && !stored;
  return (Object.keys(form) as (keyof RecordPrivacyInput)[]).every((k) => Object.is(form[k], stored[k as keyof RecordPrivacy]));
}

/** One line of the plan: a site of `records` training records. */
export interface RecordPlanRow {
  records: number;
  sampleRate: number;
  /** DP-SGD steps its budget allows over the study's life. */
  stepsAllowed: number;
  /** Steps one round asks of it. */
  stepsPerRound: number;
  /** Rounds it can take part in (the last maybe with fewer steps). */
  rounds: number;
}

export interface RecordPlan {
  rows: RecordPlanRow[];
  /** A site with fewer training records cannot take one step within the budget (null: no size can). */
  smallestSite: number | null;
}

/** Site sizes the plan shows: a small, a typical and a large hospital export. */
export const PLAN_SITE_SIZES = [200, 1_000, 5_000] as const;

/**
 * What the budget allows, before the study starts: for sites of a few sizes, the sampling rate
 * q = batch size / records, the DP-SGD steps within the budget, and how many rounds of the study's
 * local work that is. Null while a setting is not valid.
 */
export function recordPlan(form: RecordPrivacyForm, training: LocalWork, sizes: readonly number[] = PLAN_SITE_SIZES): RecordPlan | null {
  const parsed = recordPrivacySchema.safeParse(recordPrivacyFromForm(form));
  if (!form.enabled || !parsed.success || !(training.batchSize >= 1)) return null;
  const p = parsed.data;
  const rows = sizes.map((records) => {
    const sampleRate = sampleRateFor(training, records);
    const stepsAllowed = stepsWithinBudget({ sampleRate, noiseMultiplier: p.noiseMultiplier, delta: p.delta, epsilonBudget: p.epsilonBudget });
    const stepsPerRound = plannedSteps(training, records);
    return { records, sampleRate, stepsAllowed, stepsPerRound, rounds: stepsPerRound > 0 ? Math.ceil(stepsAllowed / stepsPerRound) : 0 };
  });
  return { rows, smallestSite: smallestSiteThatTrains(p, training.batchSize) };
}
