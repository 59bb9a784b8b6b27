import { EMERGENCY_NUMBERS } from './replies';

/**
 * What to do next after a risk estimate, by band. The cut-offs decide what the page says next, not a
 * clinical threshold: the heart study's patients were people referred for tests (about half of them
 * had heart disease), so "high" starts where the model says more likely than not. The wording is
 * calm and never a diagnosis; symptoms always come first, whatever the band.
 */
export const RISK_BANDS = { high: 0.5, moderate: 0.2 } as const;

export type RiskBand = 'high' | 'moderate' | 'low';

export function riskBand(probability: number): RiskBand {
  return probability >= RISK_BANDS.high ? 'high' : probability >= RISK_BANDS.moderate ? 'moderate' : 'low';
}

export interface NextStep {
  band: RiskBand;
  title: string;
  lines: string[];
}

const SYMPTOMS_NOW = `If you have chest pain or pressure now, especially with breathlessness, sweating or pain spreading to your arm, neck or jaw, do not wait for an appointment. ${EMERGENCY_NUMBERS}`;

export const NEXT_STEPS: Record<RiskBand, NextStep> = {
  high: {
    band: 'high',
    title: 'What to do next: talk to your doctor within the next few weeks',
    lines: [
      'Book an appointment with your doctor (GP) in the next few weeks to talk about your heart health. Take this result and your test reports with you.',
      'A high estimate is a reason to see a doctor, not a diagnosis and not a reason to panic: your doctor can repeat the measurements and arrange the right tests.',
      SYMPTOMS_NOW,
    ],
  },
  moderate: {
    band: 'moderate',
    title: 'What to do next: mention it at a routine check-up',
    lines: [
      'Mention this result at your next routine check-up with your doctor or nurse, or book one if you have not had your blood pressure and cholesterol checked recently.',
      'Healthy habits help: being active, not smoking, and eating well.',
      'If you get chest pain, breathlessness or other worrying symptoms, see a doctor sooner, whatever the estimate says.',
    ],
  },
  low: {
    band: 'low',
    title: 'What to do next: keep up healthy habits',
    lines: [
      'Keep up healthy habits (being active, not smoking, eating well) and your routine checks of blood pressure and cholesterol.',
      'A low estimate does not rule heart disease out: if you have symptoms such as chest pain or breathlessness, see a doctor whatever the estimate says.',
    ],
  },
};

export function nextStepFor(probability: number): NextStep {
  return NEXT_STEPS[riskBand(probability)];
}

/**
 * "My risk says 95%": a percentage in a question about a risk estimate, read as the band's word
 * ("high", "low"), so that the question finds the article section for that kind of result. Empty when
 * the question quotes no percentage or is not about a risk or an estimate.
 */
export function bandWordsFor(normalisedQuestion: string): string[] {
  if (!/\b(?:risk|estimate|chance|score|result|probability|likelihood)/.test(normalisedQuestion)) return [];
  const out = new Set<string>();
  for (const m of normalisedQuestion.matchAll(/\b(\d{1,3}(?:\.\d+)?)\s*(?:%|percent\b)/g)) {
    const p = Number(m[1]) / 100;
    if (p > 1) continue;
    const band = riskBand(p);
    if (band !== 'moderate') out.add(band);
  }
  return [...out];
}
