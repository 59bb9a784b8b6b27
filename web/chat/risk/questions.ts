import type { Feature } from '../../../shared/tasks';

/** One answer to pick: its code in the encoding, how the patient reads it, and words they might type. */
export interface Choice {
  value: number;
  /** Plain words, shown on the button. */
  label: string;
  /** The clinical term, for the factors list ("chest pain: typical angina"). */
  short: string;
  /** What a typed answer may say instead of pressing the button (lower case). */
  words: string[];
}

interface QuestionBase {
  feature: string;
  /** The feature's clinical name, e.g. "Resting blood pressure". */
  label: string;
  /** The question, in plain words. */
  prompt: string;
  /** Units, valid range, where to find the value. */
  help: string;
  /**
   * Whether "I don't know" is accepted: the encoding imputes a missing value with the study's
   * typical one. Age and sex are always known and carry most of the estimate, so they are required.
   */
  unknownAllowed: boolean;
}
export type Question =
  | (QuestionBase & { kind: 'number'; unit: string; min: number; max: number; integer: boolean; /** How to read a value typed in another unit. */ conversion?: Conversion })
  | (QuestionBase & { kind: 'choice'; choices: Choice[] });

interface Conversion {
  /** Matches the other unit in the typed text. */
  pattern: RegExp;
  unit: string;
  factor: number;
}

/** The heart-risk features in plain words; a feature not listed here is asked with its template label. */
const WORDING: Record<string, { prompt: string; help?: string; choices?: Record<number, { label: string; words?: string[] }>; required?: boolean; conversion?: Conversion }> = {
  age: { prompt: 'How old are you?', required: true },
  sex: {
    prompt: 'What is your sex? The hospitals’ records list it as female or male.',
    required: true,
    choices: { 0: { label: 'Female', words: ['f', 'woman', 'girl'] }, 1: { label: 'Male', words: ['m', 'man', 'boy'] } },
  },
  cp: {
    prompt: 'Which of these best describes your chest pain, if you have any?',
    help: 'If you have chest pain right now, especially with breathlessness, sweating or pain spreading to the arm or jaw, stop here and call an emergency number.',
    choices: {
      1: { label: 'Pressure or pain in the chest that comes on with exercise or stress and goes away with rest (typical angina)', words: ['typical'] },
      2: { label: 'Chest pain with only some of those features (atypical angina)', words: ['atypical'] },
      3: { label: 'Chest pain that does not seem to come from the heart (non-anginal pain)', words: ['non-anginal', 'non anginal', 'nonanginal', 'not from the heart'] },
      4: { label: 'No chest pain (asymptomatic)', words: ['none', 'no', 'no chest pain', 'no pain', 'asymptomatic'] },
    },
  },
  trestbps: {
    prompt: 'What is your blood pressure at rest? Give the top (systolic) number.',
    help: 'For a reading of 130/85, type 130.',
  },
  chol: {
    prompt: 'What is your total cholesterol?',
    help: 'If your result is in mmol/L, type the unit too, for example 5.2 mmol/L, and I will convert it.',
    conversion: { pattern: /mmol/i, unit: 'mmol/L', factor: 38.67 },
  },
  fbs: {
    prompt: 'Is your blood sugar after fasting (not eating overnight) above 120 mg/dl, that is 6.7 mmol/L?',
    choices: { 0: { label: 'No', words: ['n', 'nope', 'normal'] }, 1: { label: 'Yes', words: ['y', 'yes it is', 'high'] } },
  },
  restecg: {
    prompt: 'What did your ECG at rest (a tracing of your heartbeat taken while lying still) show?',
    choices: {
      0: { label: 'Normal', words: ['normal', 'fine', 'ok'] },
      1: { label: 'Changes in the ST segment or T wave (ST-T wave abnormality)', words: ['st-t', 'st t', 'st', 't wave', 'abnormality', 'abnormal'] },
      2: { label: 'Signs of a thickened heart muscle wall (left ventricular hypertrophy)', words: ['lvh', 'hypertrophy', 'thickened', 'left ventricular hypertrophy'] },
    },
  },
  thalach: {
    prompt: 'What was the highest heart rate you reached during an exercise test?',
    help: 'It is on the exercise ECG (stress test) report.',
  },
  exang: {
    prompt: 'Did the exercise test bring on chest pain (angina)?',
    choices: { 0: { label: 'No', words: ['n', 'nope'] }, 1: { label: 'Yes', words: ['y'] } },
  },
  oldpeak: {
    prompt: 'On the exercise test, how far did the ST segment of your ECG drop compared with rest (the “ST depression”)?',
    help: 'Type 0 if it did not drop. It is on the exercise ECG report.',
  },
  slope: {
    prompt: 'At the peak of the exercise test, which way did the ST segment slope?',
    help: 'It is on the exercise ECG report.',
    choices: {
      1: { label: 'Upwards (upsloping)', words: ['up', 'upwards', 'upsloping', 'rising'] },
      2: { label: 'Flat', words: ['flat', 'level'] },
      3: { label: 'Downwards (downsloping)', words: ['down', 'downwards', 'downsloping', 'falling'] },
    },
  },
  ca: {
    prompt: 'How many of the major blood vessels of the heart were coloured (showed up) on fluoroscopy, the X-ray dye test?',
    help: 'It is on the report of the test (fluoroscopy or angiogram).',
  },
  thal: {
    prompt: 'What did your thallium stress test (a nuclear heart scan) show?',
    help: 'It is on the report of the nuclear stress test. The hospitals’ records call this result “thal” (it has nothing to do with thalassemia, the blood disorder).',
    choices: {
      3: { label: 'Normal', words: ['normal', 'fine', 'ok'] },
      6: { label: 'A fixed defect: an area with poor blood flow both at rest and in exercise', words: ['fixed', 'fixed defect'] },
      7: { label: 'A reversible defect: an area with poor blood flow only during exercise', words: ['reversible', 'reversible defect'] },
    },
  },
};

/** `−3`, not `-3`: a real minus sign reads better. */
export function formatNumber(n: number, digits?: number): string {
  const s = digits === undefined ? String(n) : n.toFixed(digits);
  return s.replace(/^-/, '−');
}

/** "from 80 to 220 mm Hg" */
export function rangeText(q: { min: number; max: number; unit: string }): string {
  return `from ${formatNumber(q.min)} to ${formatNumber(q.max)} ${q.unit}`;
}

const UNIT_WORDS: Record<string, string> = { 'beats/min': 'beats per minute' };

/** The questions for a study's features, in encoding order. */
export function questionsFor(features: readonly Feature[]): Question[] {
  return features.map((f): Question => {
    const w = WORDING[f.name];
    const base = { feature: f.name, label: f.label, prompt: w?.prompt ?? `${f.label}?`, unknownAllowed: !w?.required };
    if (f.kind === 'numeric') {
      const unit = f.unit ?? '';
      const kind = f.integer ? 'a whole number' : 'a number';
      const range = `${capitalise(kind)} ${rangeText({ min: f.min, max: f.max, unit: UNIT_WORDS[unit] ?? unit })}.`;
      return { ...base, kind: 'number', help: [range, w?.help].filter(Boolean).join(' '), unit, min: f.min, max: f.max, integer: f.integer, conversion: w?.conversion };
    }
    const codes = f.kind === 'binary' ? f.values.map((label, value) => ({ code: value, label })) : f.categories;
    const choices = codes.map((c) => {
      const plain = w?.choices?.[c.code];
      const label = plain?.label ?? capitalise(c.label);
      return { value: c.code, label, short: c.label, words: [...new Set([c.label.toLowerCase(), label.toLowerCase(), ...(plain?.words ?? [])])] };
    });
    return { ...base, kind: 'choice', help: w?.help ?? '', choices };
  });
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export type ParsedAnswer =
  /** `value` null: "don't know", imputed with the study's typical value. `shown`: the answer as understood. */
  | { ok: true; value: number | null; shown: string }
  | { ok: false; problem: string };

const UNKNOWN = /^(?:i\s+)?(?:(?:(?:do\s*n[o'’]?t|dont)\s+know(?:\s+(?:it|that|this))?)|not\s+sure|unsure|unknown|idk|no\s+idea|skip|pass|\?+|(?:have\s+)?never\s+(?:had|measured|done)(?:\s+(?:it|one|this|that))?)$/;

function clean(text: string): string {
  return text
    .toLowerCase()
    .replace(/([^.!?,;:])[.!?,;:]+$/, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The answer a patient typed (or pressed) to `q`, checked against its range; never guesses. */
export function parseAnswer(q: Question, raw: string): ParsedAnswer {
  const text = clean(raw);
  if (!text) return { ok: false, problem: 'Please type an answer.' };
  if (UNKNOWN.test(text)) {
    if (!q.unknownAllowed) return { ok: false, problem: `I need your ${q.label.toLowerCase()} for the estimate: it is one of the values the model relies on most.` };
    return { ok: true, value: null, shown: 'I don’t know' };
  }
  return q.kind === 'number' ? parseNumber(q, text) : parseChoice(q, text);
}

const NUMBER = /[-−–]?\s?\d+(?:[.,]\d+)?/g;

function parseNumber(q: Extract<Question, { kind: 'number' }>, text: string): ParsedAnswer {
  const found = text.match(NUMBER) ?? [];
  const unitText = q.unit ? ` (${rangeText(q)})` : '';
  if (found.length === 0) {
    return { ok: false, problem: `Please type your ${q.label.toLowerCase()} as a number${unitText}${q.unknownAllowed ? ', or say “I don’t know”' : ''}.` };
  }
  // "130/85" is a blood-pressure reading (the first number is the one asked for); any other second number is ambiguous.
  if (found.length > 1 && !(found.length === 2 && /\d\s*\/\s*\d/.test(text))) return { ok: false, problem: `Please type just one number${unitText}.` };
  let value = Number(found[0]!.replace(/[−–]/, '-').replace(/\s/g, '').replace(',', '.'));
  let shown = `${formatNumber(value)} ${q.unit}`.trim();
  if (q.conversion?.pattern.test(text)) {
    const converted = Math.round(value * q.conversion.factor);
    shown = `${formatNumber(value)} ${q.conversion.unit} (${formatNumber(converted)} ${q.unit})`;
    value = converted;
  }
  if (!Number.isFinite(value)) return { ok: false, problem: `Please type your ${q.label.toLowerCase()} as a number${unitText}.` };
  if (value < q.min || value > q.max) {
    const hint = q.conversion && value >= 1 && value < q.min / 10 ? ` If your result is in ${q.conversion.unit}, type the unit too, for example ${formatNumber(value)} ${q.conversion.unit}.` : '';
    return {
      ok: false,
      problem: `${formatNumber(value)} ${q.unit} is not a possible ${q.label.toLowerCase()} for this check: it must be ${rangeText(q)}. Please check the number and type it again.${hint}`,
    };
  }
  if (q.integer && !Number.isInteger(value)) return { ok: false, problem: `Please type a whole number ${rangeText(q)}.` };
  return { ok: true, value, shown };
}

function parseChoice(q: Extract<Question, { kind: 'choice' }>, text: string): ParsedAnswer {
  const options = q.choices.map((c, i) => `${i + 1}. ${c.label}`).join('; ');
  const refuse = (): ParsedAnswer => ({
    ok: false,
    problem: `Please pick one of the answers (press a button, or type its number): ${options}${q.unknownAllowed ? '; or say “I don’t know”' : ''}.`,
  });
  // A number picks the answer in that position ("2" for the second button).
  if (/^\d+$/.test(text)) {
    const k = Number(text) - 1;
    return k >= 0 && k < q.choices.length ? { ok: true, value: q.choices[k].value, shown: q.choices[k].label } : refuse();
  }
  const exact = q.choices.find((c) => c.words.includes(text));
  if (exact) return { ok: true, value: exact.value, shown: exact.label };
  // Otherwise the longest answer word that appears whole in the text, when only one answer has it.
  let best: { choice: Choice; length: number } | null = null;
  let tie = false;
  for (const c of q.choices) {
    for (const w of c.words) {
      if (!new RegExp(`(^|[^a-z-])${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^a-z-])`).test(text)) continue;
      if (!best || w.length > best.length) {
        best = { choice: c, length: w.length };
        tie = false;
      } else if (w.length === best.length && best.choice !== c) tie = true;
    }
  }
  if (!best || tie) return refuse();
  return { ok: true, value: best.choice.value, shown: best.choice.label };
}
