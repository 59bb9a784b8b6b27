import { encodedWidth } from './encoding';
import { taskTemplateSchema, type Feature, type TaskTemplate } from './spec';
import { withMissingIndicators } from './versions';

/** The 13 features of the classic heart-disease studies, with the codes clinicians and public datasets use. */
export const heartRiskFeatures: Feature[] = [
  // Ages: adults 18–100 are plausible for a cardiology clinic; nobody is older than 120 (the oldest documented human: 122).
  { kind: 'numeric', name: 'age', label: 'Age', unit: 'years', min: 18, max: 100, mean: 54.4, std: 9.0, integer: true, limits: { min: 0, max: 120 } },
  { kind: 'binary', name: 'sex', label: 'Sex', values: ['female', 'male'], mode: 1 },
  {
    kind: 'categorical',
    name: 'cp',
    label: 'Chest-pain type',
    categories: [
      { code: 1, label: 'typical angina' },
      { code: 2, label: 'atypical angina' },
      { code: 3, label: 'non-anginal pain' },
      { code: 4, label: 'asymptomatic' },
    ],
    mode: 4,
  },
  // Resting systolic pressure: 80–220 plausible at an outpatient test; below 40 (no palpable pulse) or above 300 no
  // one is measured at rest; 0 is "not measured".
  { kind: 'numeric', name: 'trestbps', label: 'Resting blood pressure', unit: 'mm Hg', min: 80, max: 220, mean: 131.7, std: 17.6, integer: true, limits: { min: 40, max: 300 }, cannotBeZero: true },
  // Total cholesterol: 100–600 mg/dl covers nearly every adult; 30–99 (severe malnutrition, liver failure,
  // abetalipoproteinaemia) and 601–1500 (familial hypercholesterolaemia, cholestasis) are rare but real and kept
  // flagged; below 30 or above 1500 mg/dl is not a serum value. 0 is "not measured" (several public exports write it).
  { kind: 'numeric', name: 'chol', label: 'Serum cholesterol', unit: 'mg/dl', min: 100, max: 600, mean: 246.7, std: 51.8, integer: true, limits: { min: 30, max: 1500 }, cannotBeZero: true },
  { kind: 'binary', name: 'fbs', label: 'Fasting blood sugar > 120 mg/dl', values: ['no', 'yes'], mode: 0 },
  {
    kind: 'categorical',
    name: 'restecg',
    label: 'Resting ECG',
    categories: [
      { code: 0, label: 'normal' },
      { code: 1, label: 'ST-T wave abnormality' },
      { code: 2, label: 'left ventricular hypertrophy' },
    ],
    mode: 0,
  },
  // Peak heart rate in an exercise test: 60–220 plausible; under 30 or over 250 beats/min is not a peak rate.
  { kind: 'numeric', name: 'thalach', label: 'Maximum heart rate', unit: 'beats/min', min: 60, max: 220, mean: 149.6, std: 22.9, integer: true, limits: { min: 30, max: 250 }, cannotBeZero: true },
  { kind: 'binary', name: 'exang', label: 'Exercise-induced angina', values: ['no', 'yes'], mode: 0 },
  // ST depression: -3 (elevation) to 7 mm plausible; beyond -5 or 10 mm is not an ST deviation read from an ECG. 0 is normal.
  { kind: 'numeric', name: 'oldpeak', label: 'ST depression induced by exercise', unit: 'mm', min: -3, max: 7, mean: 1.04, std: 1.16, integer: false, limits: { min: -5, max: 10 } },
  {
    kind: 'categorical',
    name: 'slope',
    label: 'Slope of the peak exercise ST segment',
    categories: [
      { code: 1, label: 'upsloping' },
      { code: 2, label: 'flat' },
      { code: 3, label: 'downsloping' },
    ],
    mode: 1,
  },
  // A count of the three major coronary vessels: 0–3 and nothing else (plausible = possible).
  { kind: 'numeric', name: 'ca', label: 'Major vessels coloured by fluoroscopy', unit: 'vessels', min: 0, max: 3, mean: 0.67, std: 0.94, integer: true },
  {
    kind: 'categorical',
    name: 'thal',
    label: 'Thallium stress test result',
    categories: [
      { code: 3, label: 'normal' },
      { code: 6, label: 'fixed defect' },
      { code: 7, label: 'reversible defect' },
    ],
    mode: 3,
  },
];

export const heartRisk: TaskTemplate = taskTemplateSchema.parse({
  id: 'heart-risk',
  name: 'Heart disease risk',
  description:
    'Binary classification: is heart disease present, from 13 routine clinical features (demographics, chest pain, blood pressure, cholesterol, ECG and exercise test).',
  label: { name: 'target', description: 'Heart disease present', positive: 'disease present', negative: 'no disease' },
  features: heartRiskFeatures,
  model: {
    inputDim: encodedWidth(heartRiskFeatures),
    layers: [
      { type: 'dense', units: 16, activation: 'relu' },
      { type: 'dense', units: 1, activation: 'sigmoid' },
    ],
    loss: 'binaryCrossentropy',
    optimizer: 'adam',
  },
  defaults: {
    rounds: 10,
    minParticipants: 3,
    roundDeadlineMs: 120_000,
    localEpochs: 2,
    batchSize: 32,
    learningRate: 0.01,
    validationFraction: 0.2,
    seed: 2026,
    // About the median first-round update norm of the simulated demo sites (round 1: 2.7); adaptive clipping follows the norms from there.
    clipping: { mode: 'adaptive', initialNorm: 2.5 },
  },
});

/** Version 2: a missing indicator per feature (version 1 stays for the studies made with it). */
export const heartRiskV2: TaskTemplate = withMissingIndicators(heartRisk, 2);
