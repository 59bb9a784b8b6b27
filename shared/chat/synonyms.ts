/**
 * Lay and clinical names for the same thing. Each group becomes one "concept" term that is added to
 * the index wherever any of its phrases occurs, and to a query the same way, so a patient who writes
 * "heart attack" finds a passage that says "myocardial infarction", and "BP" finds "blood pressure".
 *
 * Groups are general medical vocabulary, not wording taken from the evaluation questions. Phrases are
 * written normalised (lower case, contractions expanded); a final "s" or "es" is optional.
 */
export const SYNONYM_GROUPS: Record<string, string[]> = {
  heartattack: ['heart attack', 'myocardial infarction', 'mi', 'coronary thrombosis'],
  heartdisease: [
    'heart disease',
    'coronary heart disease',
    'coronary artery disease',
    'cardiovascular disease',
    'cad',
    'chd',
    'cvd',
    'heart problem',
    'heart condition',
    'heart trouble',
  ],
  bloodpressure: ['blood pressure', 'bp', 'hypertension', 'hypertensive', 'trestbps', 'systolic', 'diastolic', 'mmhg', 'mm hg'],
  glucose: ['sugar', 'glucose', 'blood sugar', 'blood glucose', 'glycaemia', 'glycemia', 'hyperglycaemia', 'hyperglycemia', 'fbs'],
  diabetes: ['diabetes', 'diabetic', 'prediabetes', 'prediabetic', 'pre-diabetes', 'type 2 diabetes'],
  hba1c: ['hba1c', 'a1c', 'glycated haemoglobin', 'glycated hemoglobin', 'haemoglobin a1c', 'hemoglobin a1c'],
  cholesterol: ['cholesterol', 'lipid', 'lipid profile', 'lipid panel', 'chol', 'blood fat'],
  ldl: ['ldl', 'bad cholesterol', 'low-density lipoprotein', 'low density lipoprotein'],
  hdl: ['hdl', 'good cholesterol', 'high-density lipoprotein', 'high density lipoprotein'],
  triglyceride: ['triglyceride', 'trigs', 'tg'],
  ecg: ['ecg', 'ekg', 'electrocardiogram', 'electrocardiograph', 'heart tracing'],
  stresstest: [
    'stress test',
    'exercise test',
    'exercise ecg',
    'exercise ekg',
    'treadmill test',
    'exercise tolerance test',
    'ett',
    'cardiac stress test',
  ],
  stdepression: ['st depression', 'oldpeak', 'st segment depression', 'st segment'],
  angina: ['angina', 'anginal', 'angina pectoris'],
  exerciseangina: ['exercise-induced angina', 'exercise induced angina', 'exang', 'angina on exertion'],
  thallium: ['thallium', 'thal', 'perfusion scan', 'myocardial perfusion', 'nuclear scan', 'nuclear stress test'],
  angiogram: ['angiogram', 'angiography', 'cardiac catheterisation', 'cardiac catheterization', 'fluoroscopy', 'cath lab'],
  lvh: ['left ventricular hypertrophy', 'lvh', 'thickened heart muscle', 'enlarged heart'],
  maxheartrate: ['maximum heart rate', 'max heart rate', 'peak heart rate', 'thalach', 'highest heart rate'],
  hepc: ['hepatitis c', 'hep c', 'hepc', 'hcv', 'hepatitis c virus'],
  liverenzymes: [
    'liver enzyme',
    'liver function test',
    'liver function',
    'lft',
    'liver blood test',
    'liver test',
    'alt',
    'ast',
    'sgpt',
    'sgot',
    'alanine aminotransferase',
    'aspartate aminotransferase',
    'transaminase',
  ],
  ggt: ['ggt', 'gamma gt', 'gamma-gt', 'gamma-glutamyl transferase', 'gamma glutamyl transferase'],
  alp: ['alp', 'alkaline phosphatase', 'alk phos'],
  bilirubin: ['bilirubin', 'bil', 'jaundice', 'yellow skin', 'yellow eyes', 'yellowing'],
  albumin: ['albumin', 'alb', 'serum protein', 'total protein'],
  fibrosis: ['fibrosis', 'scarring', 'scar tissue', 'liver scarring', 'scarred liver', 'fibrotic'],
  cirrhosis: ['cirrhosis', 'cirrhotic', 'end-stage liver disease', 'hardening of the liver'],
  elastography: ['fibroscan', 'elastography', 'liver stiffness', 'transient elastography'],
  fattyliver: ['fatty liver', 'masld', 'nafld', 'steatosis', 'steatotic liver'],
  alcohol: ['alcohol', 'drinking', 'booze', 'alcoholic', 'drinks'],
  smoking: ['smoking', 'smoke', 'smoker', 'cigarette', 'cigarettes', 'tobacco', 'nicotine', 'cigar'],
  vaping: ['vaping', 'vape', 'vapes', 'e-cigarette', 'e cigarette', 'ecig', 'e-cig', 'electronic cigarette'],
  secondhand: ['second-hand smoke', 'second hand smoke', 'secondhand smoke', 'passive smoking'],
  quit: ['quit', 'quitting', 'stop smoking', 'stopping smoking', 'give up smoking', 'giving up'],
  exercise: [
    'exercise',
    'exercising',
    'physical activity',
    'workout',
    'working out',
    'keep fit',
    'keeping fit',
    'fitness',
    'being active',
    'inactive',
    'inactivity',
    'sedentary',
  ],
  sitting: ['sitting', 'sit', 'sedentary', 'desk all day'],
  weight: ['overweight', 'obese', 'obesity', 'bmi', 'body mass index', 'weight'],
  breathless: ['breathless', 'breathlessness', 'short of breath', 'shortness of breath', 'dyspnoea', 'dyspnea', 'out of breath'],
  heartburn: ['heartburn', 'acid reflux', 'reflux', 'indigestion', 'gerd', 'gord'],
  emergencycare: ['a&e', 'a & e', 'accident and emergency', 'emergency department', 'emergency room', 'er', 'casualty', 'ambulance', '999', '911', '112'],
  doctor: ['doctor', 'gp', 'physician', 'clinician', 'family doctor', 'cardiologist', 'hepatologist'],
  medicine: ['medicine', 'medication', 'medications', 'drug', 'tablet', 'pill', 'prescription'],
  transmission: ['catch', 'caught', 'spread', 'spreads', 'transmitted', 'transmission', 'passed on', 'contagious', 'infectious'],
  vaccine: ['vaccine', 'vaccination', 'vaccinated', 'jab', 'immunisation', 'immunization'],
  cure: ['cure', 'cured', 'curable'],
  symptom: ['symptom', 'sign', 'signs and symptoms', 'warning sign'],
  accuracy: ['accurate', 'accuracy', 'reliable', 'reliability', 'precise', 'trustworthy', 'validation'],
  probability: ['probability', 'percentage', 'percent', 'chance', 'likelihood', 'odds', '%'],
  riskestimate: ['risk estimate', 'risk score', 'risk prediction', 'risk calculator', 'risk result', 'estimated risk', 'prediction'],
  diagnosis: ['diagnosis', 'diagnose', 'diagnosed'],
  privacy: ['privacy', 'private', 'confidential', 'my data', 'personal data', 'personal information', 'who can see'],
  federated: ['federated learning', 'federated'],
  chatbot: ['chatbot', 'chat bot', 'assistant', 'conversation', 'chat'],
  account: ['account', 'sign in', 'log in', 'login', 'register'],
  menopause: ['menopause', 'postmenopausal', 'post-menopausal'],
  familyhistory: ['family history', 'runs in the family', 'runs in my family', 'hereditary', 'inherited', 'genetic'],
  age: ['age', 'older', 'getting older', 'elderly', 'ageing', 'aging'],
};

/** Concept terms start with a character the tokenizer never produces, so they never collide with a word. */
export const CONCEPT_PREFIX = '~';

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function phrasePattern(phrase: string): string {
  // Words may be joined by spaces or hyphens; "%" and "&" are not word characters, so they get no \b.
  const body = phrase
    .split(/[\s-]+/)
    .map(escape)
    .join('[\\s-]*');
  const start = /^\w/.test(phrase) ? '\\b' : '';
  const end = /\w$/.test(phrase) ? '(?:e?s)?\\b' : '';
  return `${start}${body}${end}`;
}

const MATCHERS: { concept: string; re: RegExp }[] = Object.entries(SYNONYM_GROUPS).map(([id, phrases]) => ({
  concept: CONCEPT_PREFIX + id,
  re: new RegExp(
    [...phrases]
      .sort((a, b) => b.length - a.length)
      .map(phrasePattern)
      .join('|'),
    'g',
  ),
}));

/**
 * The concept terms for the synonym phrases in already-normalised text, repeated once per occurrence
 * (at most three times), so a passage that is about blood pressure outweighs one that mentions it.
 */
export function conceptsIn(normalisedText: string): string[] {
  const found: string[] = [];
  for (const m of MATCHERS) {
    const n = Math.min(3, normalisedText.match(m.re)?.length ?? 0);
    for (let i = 0; i < n; i++) found.push(m.concept);
  }
  return found;
}

/** Each synonym phrase found in normalised text: its concept term and the text it covered. */
export function conceptSpans(normalisedText: string): { concept: string; text: string }[] {
  const spans: { concept: string; text: string }[] = [];
  for (const m of MATCHERS) for (const hit of normalisedText.matchAll(m.re)) spans.push({ concept: m.concept, text: hit[0] });
  return spans;
}

/** The phrases' own words, so the spelling corrector can repair "hepatitus" towards a synonym. */
export function synonymWords(): string[] {
  return Object.values(SYNONYM_GROUPS)
    .flat()
    .flatMap((p) => p.toLowerCase().match(/[a-z0-9]+/g) ?? []);
}
