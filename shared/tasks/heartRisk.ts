import { encodedWidth } from './encoding';
import { taskTemplateSchema, type Feature, type TaskTemplate } from './spec';

/** The 13 features of the classic heart-disease studies, with the codes clinicians and public datasets use. */
export const heartRiskFeatures: Feature[] = [
  { kind: 'numeric', name: 'age', label: 'Age', unit: 'years', min: 18, max: 100, mean: 54.4, std: 9.0, integer: true },
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
  { kind: 'numeric', name: 'trestbps', label: 'Resting blood pressure', unit: 'mm Hg', min: 80, max: 220, mean: 131.7, std: 17.6, integer: true },
  { kind: 'numeric', name: 'chol', label: 'Serum cholesterol', unit: 'mg/dl', min: 100, max: 600, mean: 246.7, std: 51.8, integer: true },
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
  { kind: 'numeric', name: 'thalach', label: 'Maximum heart rate', unit: 'beats/min', min: 60, max: 220, mean: 149.6, std: 22.9, integer: true },
  { kind: 'binary', name: 'exang', label: 'Exercise-induced angina', values: ['no', 'yes'], mode: 0 },
  { kind: 'numeric', name: 'oldpeak', label: 'ST depression induced by exercise', unit: 'mm', min: -3, max: 7, mean: 1.04, std: 1.16, integer: false },
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
  { kind: 'numeric', name: 'ca', label: 'Major vessels coloured by fluoroscopy', unit: 'vessels', min: 0, max: 3, mean: 0.67, std: 0.94, integer: true },
  {
    kind: 'categorical',
    name: 'thal',
    label: 'Thalassemia',
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
