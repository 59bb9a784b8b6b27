import type { Feature } from '../../../shared/tasks';
import { typicalText, typicalValue, valueText } from './describe';
import { answerSentence, expectedDirection, plainAverage, plainName, plainValue } from './plainWords';

export interface Factor {
  feature: string;
  /** The feature in plain words, capitalised ("Thallium stress test"), never the study's column name. */
  label: string;
  /** The patient's answer, e.g. "171 beats/min". */
  value: string;
  /** The study's typical value it is compared with. */
  typical: string;
  /** What "typical" is for this feature: the study's average (numeric) or its most common answer. */
  typicalKind: 'average' | 'most common';
  /** On the logit scale: how much of the difference from the typical patient this answer accounts for. */
  attribution: number;
  /** The model's direction: the sign of `attribution`, and nothing else. */
  direction: 'up' | 'down';
  strength: 'strongly' | 'moderately' | 'slightly';
  /**
   * Whether the model's direction is the one a clinician would expect for this answer (see
   * plainWords.ts); null where there is no clear expectation.
   */
  agreesWithClinicalExpectation: boolean | null;
  /** The factor in plain sentences: the answer, then which way it moved the estimate. */
  text: string;
}

export interface FactorSummary {
  up: Factor[];
  down: Factor[];
  /** Plain names of the answers the patient did not know (imputed, so they moved nothing). */
  unknown: string[];
}

/** Below this (logit units, about a 0.5-point change near 50 %) an answer is not worth listing. */
const NEGLIGIBLE = 0.02;

function strengthOf(a: number): Factor['strength'] {
  const m = Math.abs(a);
  return m >= 1 ? 'strongly' : m >= 0.3 ? 'moderately' : 'slightly';
}

const HOW_MUCH: Record<Factor['strength'], string> = { strongly: 'a lot', moderately: 'somewhat', slightly: 'a little' };

/**
 * Which way the answer moved the estimate, as the model computed it. Where that is the opposite of what
 * a clinician would expect, it says so and says whose view it is, rather than stating a medical fact.
 */
function directionSentence(direction: Factor['direction'], strength: Factor['strength'], agrees: boolean | null): string {
  const verb = direction === 'up' ? 'raised' : 'lowered';
  if (agrees !== false) return `This ${verb} your estimate ${HOW_MUCH[strength]}.`;
  const usual = direction === 'up' ? 'lower' : 'higher';
  const caution = direction === 'down' ? 'do not take it as a sign that it protects you' : 'it is not in itself a sign of harm';
  return `In this model, this ${verb} your estimate ${HOW_MUCH[strength]}, although doctors usually see it as a sign of ${usual} risk. That is how this model weighs it alongside your other answers; ${caution}.`;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * The answers that pushed the estimate up or down the most, compared with the study's typical
 * patient, in plain words. `attributions` holds one number per feature (integrated gradients, the
 * one-hot columns of a category folded together); a factor's direction is its attribution's sign.
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
      unknown.push(plainName(f));
      continue;
    }
    if (Math.abs(attribution) < NEGLIGIBLE) continue;
    const strength = strengthOf(attribution);
    const value = valueText(f, answer);
    const typical = typicalText(f);
    const direction = attribution > 0 ? 'up' : 'down';
    const typicalKind = f.kind === 'numeric' ? 'average' : 'most common';
    const expected = expectedDirection(f, answer, typicalValue(f));
    const agrees = expected === 0 ? null : expected === (direction === 'up' ? 1 : -1);
    const comparison =
      f.kind === 'numeric' ? `the study’s average is ${plainAverage(f, typical)}` : `the most common answer in the study was ${plainValue(f, typicalValue(f), typical)}`;
    factors.push({
      feature: name,
      label: capitalise(plainName(f)),
      value,
      typical,
      typicalKind,
      attribution,
      direction,
      strength,
      agreesWithClinicalExpectation: agrees,
      text: `${answerSentence(f, answer, value)}; ${comparison}. ${directionSentence(direction, strength, agrees)}`,
    });
  }
  const ranked = (sign: 1 | -1) =>
    factors
      .filter((x) => Math.sign(x.attribution) === sign)
      .sort((a, b) => Math.abs(b.attribution) - Math.abs(a.attribution))
      .slice(0, limit);
  return { up: ranked(1), down: ranked(-1), unknown };
}
