import type { Feature } from '../../../shared/tasks';
import { typicalText, valueText } from './describe';

export interface Factor {
  feature: string;
  label: string;
  /** The patient's answer, e.g. "171 beats/min". */
  value: string;
  /** The study's typical value it is compared with. */
  typical: string;
  /** What "typical" is for this feature: the study's average (numeric) or its most common answer. */
  typicalKind: 'average' | 'most common';
  /** On the logit scale: how much of the difference from the typical patient this answer accounts for. */
  attribution: number;
  strength: 'strongly' | 'moderately' | 'slightly';
  /** The factor as one sentence. */
  text: string;
}

export interface FactorSummary {
  up: Factor[];
  down: Factor[];
  /** Labels of the answers the patient did not know (imputed, so they moved nothing). */
  unknown: string[];
}

/** Below this (logit units, about a 0.5-point change near 50 %) an answer is not worth listing. */
const NEGLIGIBLE = 0.02;

function strengthOf(a: number): Factor['strength'] {
  const m = Math.abs(a);
  return m >= 1 ? 'strongly' : m >= 0.3 ? 'moderately' : 'slightly';
}

/**
 * The answers that pushed the estimate up or down the most, compared with the study's typical
 * patient, in plain words. `attributions` holds one number per feature (integrated gradients, the
 * one-hot columns of a category folded together).
 */
export function explainFactors(
  features: readonly Feature[],
  answers: Record<string, number | null>,
  attributions: readonly { name: string; attribution: number }[],
  limit = 3,
): FactorSummary {
  const byName = new Map(features.map((f) => [f.name, f]));
  const factors: Factor[] = [];
  const unknown: string[] = [];
  for (const { name, attribution } of attributions) {
    const f = byName.get(name);
    if (!f) continue;
    const answer = answers[name];
    if (answer === null || answer === undefined) {
      unknown.push(f.label.toLowerCase());
      continue;
    }
    if (Math.abs(attribution) < NEGLIGIBLE) continue;
    const strength = strengthOf(attribution);
    const value = valueText(f, answer);
    const typical = typicalText(f);
    const direction = attribution > 0 ? 'up' : 'down';
    const typicalKind = f.kind === 'numeric' ? 'average' : 'most common';
    factors.push({
      feature: name,
      label: f.label,
      value,
      typical,
      typicalKind,
      attribution,
      strength,
      text: `${f.label}: ${value} (${typicalKind} in the study: ${typical}) pushed it ${direction} ${strength}.`,
    });
  }
  const ranked = (sign: 1 | -1) =>
    factors
      .filter((x) => Math.sign(x.attribution) === sign)
      .sort((a, b) => Math.abs(b.attribution) - Math.abs(a.attribution))
      .slice(0, limit);
  return { up: ranked(1), down: ranked(-1), unknown };
}
