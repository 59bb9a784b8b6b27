import { noiseFor } from '../../shared/fl/privacy/rdp';
import { distributedStudySpent } from '../../shared/fl/secagg/distributedNoise';
import { privacyPlan, sitePrivacySchema, type PrivacyPlan, type SitePrivacy, type SitePrivacyInput } from '../../shared/fl/privacy/sitePrivacy';

/**
 * The study form's site-level differential privacy (shared/fl/privacy/sitePrivacy.ts), as typed:
 * strings, so a half-typed number stays on screen. The admin sets the noise multiplier z, or a target
 * ε for the whole study, from which the form computes z over the study's rounds.
 */
export interface PrivacyForm {
  enabled: boolean;
  noiseMode: 'noise' | 'target';
  clipNorm: string;
  noiseMultiplier: string;
  /** The ε the whole study should spend (target mode): z is the smallest that keeps it. */
  targetEpsilon: string;
  sampleRate: string;
  delta: string;
  epsilonBudget: string;
  recordCap: string;
}

/** Off; when turned on, a target ε of 8 over the study's rounds, with the budget at the target. */
export const DEFAULT_PRIVACY_FORM: PrivacyForm = {
  enabled: false,
  noiseMode: 'target',
  clipNorm: '1',
  noiseMultiplier: '1',
  targetEpsilon: '8',
  sampleRate: '1',
  delta: '1e-5',
  epsilonBudget: '8',
  recordCap: '100',
};

/** A study's privacy as the form shows it (its noise as set: a stored study keeps z, not a target). */
export function privacyFormFrom(p: SitePrivacy | null): PrivacyForm {
  if (!p) return DEFAULT_PRIVACY_FORM;
  return {
    enabled: true,
    noiseMode: 'noise',
    clipNorm: String(p.clipNorm),
    noiseMultiplier: String(p.noiseMultiplier),
    targetEpsilon: String(p.epsilonBudget),
    sampleRate: String(p.sampleRate),
    delta: String(p.delta),
    epsilonBudget: String(p.epsilonBudget),
    recordCap: String(p.recordCap),
  };
}

/** `form` with `change` applied; the budget follows the target ε while the two are equal. */
export function applyPrivacyChange(form: PrivacyForm, change: Partial<PrivacyForm>): PrivacyForm {
  const next = { ...form, ...change };
  if (change.targetEpsilon !== undefined && change.epsilonBudget === undefined && form.epsilonBudget === form.targetEpsilon) next.epsilonBudget = change.targetEpsilon;
  // Switching to a target starts from the budget, so what is asked and what is allowed agree.
  if (change.noiseMode === 'target' && form.noiseMode !== 'target' && change.targetEpsilon === undefined) next.targetEpsilon = form.epsilonBudget;
  return next;
}

const num = (s: string) => (s.trim() === '' ? Number.NaN : Number(s));

export type TargetNoise = { noise: number; epsilon: number } | { error: string };

const targetCache = new Map<string, TargetNoise>();

/**
 * The noise multiplier that keeps the study's ε within the target over `rounds` rounds (memoised:
 * one computation takes up to a few hundred milliseconds); null while an input is not a number.
 */
export function targetNoise(form: PrivacyForm, rounds: number, distributed = false): TargetNoise | null {
  const q = num(form.sampleRate);
  const delta = num(form.delta);
  const target = num(form.targetEpsilon);
  if (![q, delta, target, rounds].every(Number.isFinite)) return null;
  const key = `${q}|${delta}|${target}|${rounds}|${distributed}`;
  let found = targetCache.get(key);
  if (!found) {
    const input = sitePrivacySchema.pick({ sampleRate: true, delta: true }).safeParse({ sampleRate: q, delta });
    if (!input.success) return null;
    if (!(target > 0)) found = { error: 'the target ε must be above 0' };
    else if (!(Number.isInteger(rounds) && rounds >= 1)) return null;
    else {
      try {
        const r = distributed ? distributedNoiseFor({ sampleRate: q, rounds, delta, epsilon: target }) : noiseFor({ sampleRate: q, steps: rounds, delta, epsilon: target });
        found = { noise: r.noise, epsilon: r.epsilon };
      } catch (e) {
        found = { error: e instanceof Error ? e.message : String(e) };
      }
    }
    if (targetCache.size > 200) targetCache.clear();
    targetCache.set(key, found);
  }
  return found;
}

/**
 * The least noise multiplier whose distributed (Skellam, shared/fl/secagg/distributedNoise.ts) study
 * spends at most `epsilon` over `rounds`: a bisection on log z, ε falling as z grows.
 */
function distributedNoiseFor(s: { sampleRate: number; rounds: number; delta: number; epsilon: number }): { noise: number; epsilon: number } {
  const spent = (z: number) => distributedStudySpent({ clipNorm: 1, noiseMultiplier: z, sampleRate: s.sampleRate, delta: s.delta }, s.rounds).epsilon;
  let lo = 0.05;
  let hi = 5_000;
  if (spent(hi) > s.epsilon) throw new Error(`ε ${s.epsilon} is out of reach: even z = ${hi} spends more over ${s.rounds} rounds`);
  if (spent(lo) <= s.epsilon) return { noise: lo, epsilon: spent(lo) };
  for (let i = 0; i < 40 && hi / lo > 1 + 1e-6; i++) {
    const mid = Math.sqrt(lo * hi);
    if (spent(mid) <= s.epsilon) hi = mid;
    else lo = mid;
  }
  const noise = Number(hi.toPrecision(6)) >= hi ? Number(hi.toPrecision(6)) : hi;
  return { noise, epsilon: spent(noise) };
}

/**
 * The privacy setting the form sends (null: none); a target that gives no noise leaves z NaN, which
 * the schema refuses. `distributed`: the study runs under secure aggregation, where the sites add the
 * noise and the Skellam accountant counts it.
 */
export function privacyFromForm(form: PrivacyForm, rounds: number, distributed = false): SitePrivacyInput | null {
  if (!form.enabled) return null;
  let noiseMultiplier = num(form.noiseMultiplier);
  if (form.noiseMode === 'target') {
    const t = targetNoise(form, rounds, distributed);
    noiseMultiplier = t && 'noise' in t ? t.noise : Number.NaN;
  }
  return {
    clipNorm: num(form.clipNorm),
    noiseMultiplier,
    sampleRate: num(form.sampleRate),
    delta: num(form.delta),
    epsilonBudget: num(form.epsilonBudget),
    recordCap: num(form.recordCap),
  };
}

/** Whether two privacy settings are the same (key order aside). */
export function samePrivacy(a: SitePrivacyInput | null | undefined, b: SitePrivacyInput | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  const keys = ['clipNorm', 'noiseMultiplier', 'sampleRate', 'delta', 'epsilonBudget', 'recordCap'] as const;
  return keys.every((k) => Object.is(a[k] ?? defaults[k], b[k] ?? defaults[k]));
}
const defaults = { delta: 1e-5, recordCap: 100 } as Partial<Record<keyof SitePrivacyInput, number>>;

/**
 * Problems of the target-ε mode in the server's words' form (`privacy.field: message`), which the
 * schema cannot name because it only sees the computed z.
 */
export function privacyFormProblems(form: PrivacyForm, rounds: number, distributed = false): string[] {
  if (!form.enabled || form.noiseMode !== 'target') return [];
  if (!Number.isFinite(num(form.targetEpsilon))) return ['privacy.targetEpsilon: give the ε the whole study should spend'];
  const t = targetNoise(form, rounds, distributed);
  return t && 'error' in t ? [`privacy.targetEpsilon: ${t.error}`] : [];
}

/** What the form's privacy promises before the study starts, or why it cannot say yet. */
export type PrivacyPreview = { privacy: SitePrivacy; plan: PrivacyPlan; target: TargetNoise | null } | { error: string };

/** Each setting as the form labels it. */
export const LABELS = {
  clipNorm: 'Clip norm C',
  noiseMultiplier: 'Noise multiplier z',
  targetEpsilon: 'Target ε (whole study)',
  sampleRate: 'Sampling rate q',
  delta: 'δ (delta)',
  epsilonBudget: 'ε budget',
  recordCap: 'Record cap',
} as const;

export function privacyPreview(form: PrivacyForm, rounds: number, sites: number, parameters: number, distributed = false): PrivacyPreview | null {
  if (!form.enabled) return null;
  const target = form.noiseMode === 'target' ? targetNoise(form, rounds, distributed) : null;
  if (target && 'error' in target) return { error: `No noise meets the target: ${target.error}.` };
  if (!(Number.isInteger(rounds) && rounds >= 1)) return { error: 'Set the number of rounds to see what the study spends.' };
  const parsed = sitePrivacySchema.safeParse(privacyFromForm(form, rounds, distributed));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = LABELS[String(issue?.path[0]) as keyof typeof LABELS] ?? 'a setting';
    const why = !issue || /NaN|expected number/.test(issue.message) ? 'give a number' : issue.message.replace(/^privacy\.\w+ /, '');
    return { error: `Complete the privacy settings to see what the study spends: ${field}: ${why}.` };
  }
  const privacy: SitePrivacy = distributed ? { ...parsed.data, distributed: true } : parsed.data;
  return { privacy, plan: privacyPlan(privacy, { rounds, sites, parameters }), target };
}
