import { encodedWidth } from './encoding';
import { taskTemplateSchema, type Feature, type TaskTemplate } from './spec';
import { withMissingIndicators } from './versions';

/**
 * Age, sex and the ten-test liver panel of the public HCV data set (Hoffmann et al., UCI "HCV data":
 * 615 blood donors and hepatitis C patients, Hannover Medical School). Reference means and standard
 * deviations are that data set's; `min`–`max` are wide plausibility bounds for imported values, wider than
 * the data set's own extremes (ALT 0.9–325, CREA 8–1079, GGT 4.5–651 ...): a value outside them is kept
 * and flagged. `limits` bound what a serum value can be at all: a value outside them refuses its row.
 */
export const hcvStageFeatures: Feature[] = [
  // Possible range: nobody is older than 120.
  { kind: 'numeric', name: 'age', label: 'Age', unit: 'years', min: 18, max: 100, mean: 47.4, std: 10.1, integer: true, limits: { min: 0, max: 120 } },
  { kind: 'binary', name: 'sex', label: 'Sex', values: ['female', 'male'], mode: 1 },
  // Possible range: albumin below 5 g/L or above 100 g/L is not a serum value (normal 35–50). 0 is not a measurement.
  { kind: 'numeric', name: 'alb', label: 'Albumin (ALB)', unit: 'g/L', min: 10, max: 90, mean: 41.6, std: 5.8, integer: false, limits: { min: 5, max: 100 }, cannotBeZero: true },
  // Possible range: ALP reaches a few thousand IU/L in cholestasis; above 5000 is not a serum value. 0 is not a measurement.
  { kind: 'numeric', name: 'alp', label: 'Alkaline phosphatase (ALP)', unit: 'IU/L', min: 5, max: 1000, mean: 68.3, std: 26.0, integer: false, limits: { min: 1, max: 5000 }, cannotBeZero: true },
  // Possible range: acute hepatitis and ischaemic injury reach several thousand IU/L; above 10,000 is not a serum value. 0 is not a measurement.
  { kind: 'numeric', name: 'alt', label: 'Alanine aminotransferase (ALT)', unit: 'IU/L', min: 0.5, max: 1500, mean: 28.5, std: 25.5, integer: false, limits: { min: 0.1, max: 10000 }, cannotBeZero: true },
  // Possible range: as ALT. 0 is not a measurement.
  { kind: 'numeric', name: 'ast', label: 'Aspartate aminotransferase (AST)', unit: 'IU/L', min: 5, max: 1500, mean: 34.8, std: 33.1, integer: false, limits: { min: 1, max: 10000 }, cannotBeZero: true },
  // Possible range: deep jaundice stays below about 850 µmol/L (50 mg/dl). 0 is not a measurement.
  { kind: 'numeric', name: 'bil', label: 'Bilirubin (BIL)', unit: 'µmol/L', min: 0.5, max: 500, mean: 11.4, std: 19.7, integer: false, limits: { min: 0.1, max: 1000 }, cannotBeZero: true },
  // Possible range: normal 5–13 kU/L. 0 is not a measurement.
  { kind: 'numeric', name: 'che', label: 'Cholinesterase (CHE)', unit: 'kU/L', min: 0.5, max: 20, mean: 8.2, std: 2.2, integer: false, limits: { min: 0.1, max: 30 }, cannotBeZero: true },
  // Possible range: as the heart template's 30–1500 mg/dl, in mmol/L. 0 is not a measurement.
  { kind: 'numeric', name: 'chol', label: 'Cholesterol (CHOL)', unit: 'mmol/L', min: 1, max: 15, mean: 5.37, std: 1.13, integer: false, limits: { min: 0.5, max: 40 }, cannotBeZero: true },
  // Possible range: end-stage renal failure stays below about 2000 µmol/L. 0 is not a measurement.
  { kind: 'numeric', name: 'crea', label: 'Creatinine (CREA)', unit: 'µmol/L', min: 5, max: 1500, mean: 81.3, std: 49.8, integer: false, limits: { min: 2, max: 2500 }, cannotBeZero: true },
  // Possible range: cholestasis and alcohol reach a few thousand IU/L. 0 is not a measurement.
  { kind: 'numeric', name: 'ggt', label: 'Gamma-glutamyl transferase (GGT)', unit: 'IU/L', min: 2, max: 1500, mean: 39.5, std: 54.7, integer: false, limits: { min: 1, max: 5000 }, cannotBeZero: true },
  // Possible range: myeloma reaches about 120 g/L; under 15 g/L is not a serum value. 0 is not a measurement.
  { kind: 'numeric', name: 'prot', label: 'Total protein (PROT)', unit: 'g/L', min: 30, max: 110, mean: 72.0, std: 5.4, integer: false, limits: { min: 15, max: 150 }, cannotBeZero: true },
];

/** Class index → stage, in order of progression. */
export const hcvStageClasses = ['blood donor', 'hepatitis', 'fibrosis', 'cirrhosis'] as const;

export const hcvStage: TaskTemplate = taskTemplateSchema.parse({
  id: 'hcv-stage',
  name: 'Hepatitis C stage',
  description:
    'Multi-class classification: blood donor, hepatitis, fibrosis or cirrhosis, from age, sex and a ten-test liver panel (ALB, ALP, ALT, AST, BIL, CHE, CHOL, CREA, GGT, PROT).',
  label: {
    name: 'category',
    description: 'Stage of liver disease (0 blood donor, 1 hepatitis, 2 fibrosis, 3 cirrhosis)',
    positive: 'liver disease',
    negative: 'blood donor',
    classes: [...hcvStageClasses],
  },
  features: hcvStageFeatures,
  model: {
    inputDim: encodedWidth(hcvStageFeatures),
    layers: [
      { type: 'dense', units: 24, activation: 'relu' },
      { type: 'dense', units: hcvStageClasses.length, activation: 'softmax' },
    ],
    loss: 'categoricalCrossentropy',
    optimizer: 'adam',
  },
  defaults: {
    rounds: 15,
    minParticipants: 3,
    roundDeadlineMs: 120_000,
    localEpochs: 4,
    batchSize: 32,
    learningRate: 0.01,
    // The rare stages are a few percent of a site: a quarter keeps some of each in validation.
    validationFraction: 0.25,
    seed: 2027,
    // About the median first-round update norm of the simulated demo sites (round 1: 3.5); adaptive clipping follows the norms from there.
    clipping: { mode: 'adaptive', initialNorm: 3.5 },
  },
});

/** Version 2: a missing indicator per feature (version 1 stays for the studies made with it). */
export const hcvStageV2: TaskTemplate = withMissingIndicators(hcvStage, 2);
