import type { Feature } from '../../../shared/tasks';
import { formatNumber } from './questions';

/**
 * The heart-risk features in the words a patient would use, and the direction a clinician expects
 * each to move a heart-disease estimate. The study's own labels are research column names (once "Thalassemia"
 * for the UCI dataset's `thal`, which is the thallium stress test, not the blood disorder); the
 * factors list speaks these words instead. A feature not listed here keeps its study label.
 */
export interface PlainFeature {
  /** The thing itself, lower case, as it reads in a list: "thallium stress test (heart scan)". */
  name: string;
  /** Plain words for a category's answer, by code (the clinical term kept in brackets). */
  values?: Record<number, string>;
  /** The answer as a sentence without its full stop, from the value in words (and its code). */
  says: (value: string, code: number) => string;
  /** The study's average in words, where the usual "<mean rounded> <unit>" reads wrong ("1 vessels"). */
  average?: (mean: number) => string;
  /**
   * Which way a clinician expects this answer to move the estimate, compared with the study's typical
   * patient. Numeric: +1 when a higher value is expected to raise it (age), −1 when it is expected to
   * lower it (the highest heart rate reached in an exercise test). Categorical or yes/no: a risk level
   * per code; a higher level is expected to raise the estimate, equal levels say nothing, and a code
   * without a level (no agreed place) makes no expectation.
   */
  expected: { higher: 1 | -1 } | { levels: Record<number, number> };
}

export const PLAIN_FEATURES: Record<string, PlainFeature> = {
  age: { name: 'age', says: (v) => `You are ${v} old`, expected: { higher: 1 } },
  sex: { name: 'sex', values: { 0: 'female', 1: 'male' }, says: (v) => `You are ${v}`, expected: { levels: { 0: 0, 1: 1 } } },
  cp: {
    name: 'chest pain',
    values: {
      1: 'chest pain that comes on with exertion and eases with rest (typical angina)',
      2: 'chest pain with only some of the features of angina (atypical angina)',
      3: 'chest pain that does not seem to come from the heart (non-anginal pain)',
      4: 'no chest pain',
    },
    says: (v) => `You described ${v}`,
    // Typical angina points to the heart more than atypical angina, and either more than pain from
    // elsewhere or none. (In the study's data people without chest pain had heart disease often, since
    // they were referred for other reasons; a model may learn that, and the factor then says so.)
    expected: { levels: { 1: 2, 2: 1, 3: 0, 4: 0 } },
  },
  trestbps: { name: 'blood pressure at rest', says: (v) => `Your blood pressure at rest is ${v}`, expected: { higher: 1 } },
  chol: { name: 'cholesterol', says: (v) => `Your total cholesterol is ${v}`, expected: { higher: 1 } },
  fbs: {
    name: 'fasting blood sugar',
    values: { 0: 'not above 120 mg/dl', 1: 'above 120 mg/dl' },
    says: (v) => `Your fasting blood sugar is ${v}`,
    expected: { levels: { 0: 0, 1: 1 } },
  },
  restecg: {
    name: 'resting ECG',
    values: { 0: 'a normal result', 1: 'changes in the ST segment or T wave (ST-T wave abnormality)', 2: 'a thickened heart muscle wall (left ventricular hypertrophy)' },
    says: (v) => `Your ECG at rest showed ${v}`,
    expected: { levels: { 0: 0, 1: 1, 2: 1 } },
  },
  thalach: { name: 'highest heart rate in the exercise test', says: (v) => `The highest heart rate you reached in the exercise test was ${v}`, expected: { higher: -1 } },
  exang: {
    name: 'chest pain during the exercise test',
    values: { 0: 'did not bring on chest pain', 1: 'brought on chest pain' },
    says: (v) => `The exercise test ${v}`,
    expected: { levels: { 0: 0, 1: 1 } },
  },
  oldpeak: { name: 'ST depression in the exercise test', says: (v) => `The ST segment of your ECG dropped by ${v} during exercise (ST depression)`, expected: { higher: 1 } },
  slope: {
    name: 'ST slope at peak exercise',
    values: { 1: 'rising (upsloping)', 2: 'flat', 3: 'falling (downsloping)' },
    says: (v) => `At peak exercise the ST segment of your ECG was ${v}`,
    expected: { levels: { 1: 0, 2: 1, 3: 1 } },
  },
  ca: {
    name: 'major arteries seen on fluoroscopy',
    average: (mean) => `${formatNumber(mean, 1)} arteries`,
    says: (_v, n) => `${n === 1 ? '1 major heart artery' : `${n} major heart arteries`} showed up on the dye X-ray of your heart (fluoroscopy)`,
    expected: { higher: 1 },
  },
  thal: {
    name: 'thallium stress test',
    values: {
      3: 'a normal result',
      6: 'a fixed defect (an area with poor blood flow both at rest and in exercise)',
      7: 'a reversible defect (an area with poor blood flow only during exercise)',
    },
    says: (v) => `Your thallium stress test (heart scan) showed ${v}`,
    expected: { levels: { 3: 0, 6: 1, 7: 1 } },
  },
};

/** The feature's name in plain words, lower case ("thallium stress test"). */
export function plainName(feature: Feature): string {
  return PLAIN_FEATURES[feature.name]?.name ?? feature.label.toLowerCase();
}

/** An answer in plain words ("a reversible defect (…)", "171 beats/min"); `studyWords` is how the study writes it. */
export function plainValue(feature: Feature, code: number, studyWords: string): string {
  return PLAIN_FEATURES[feature.name]?.values?.[code] ?? studyWords;
}

/** The study's average of a numeric feature in words: "54 years", "0.7 arteries". */
export function plainAverage(feature: Extract<Feature, { kind: 'numeric' }>, studyWords: string): string {
  return PLAIN_FEATURES[feature.name]?.average?.(feature.mean) ?? studyWords;
}

/** The answer as a sentence, without its full stop: "Your thallium stress test (heart scan) showed a normal result". */
export function answerSentence(feature: Feature, code: number, studyWords: string): string {
  const plain = PLAIN_FEATURES[feature.name];
  const value = plainValue(feature, code, studyWords);
  return plain ? plain.says(value, code) : `${feature.label}: ${value}`;
}

/**
 * +1 when a clinician would expect this answer, against the study's typical one, to raise the
 * estimate; −1 to lower it; 0 when there is no clear expectation (or the answer is the typical one).
 */
export function expectedDirection(feature: Feature, value: number, typical: number): -1 | 0 | 1 {
  const plain = PLAIN_FEATURES[feature.name];
  if (!plain || value === typical) return 0;
  if ('higher' in plain.expected) return (Math.sign(value - typical) * plain.expected.higher) as -1 | 0 | 1;
  const a = plain.expected.levels[value];
  const b = plain.expected.levels[typical];
  if (a === undefined || b === undefined) return 0;
  return Math.sign(a - b) as -1 | 0 | 1;
}
