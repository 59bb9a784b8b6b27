import { majorityRate } from '../metrics/binary';
import { macroF1, majorityClassRate, perClassRecall } from '../metrics/multiclass';
import { generateHcvRecords, hcvHospitals } from '../synthetic/hcv';
import { demoHospitals, generateHeartRecords, type HospitalProfile } from '../synthetic/heart';
import { generateLesionImages, lesionHospitals, lesionSplit } from '../synthetic/lesions';
import { deriveSeed } from '../synthetic/rng';
import { hcvStage } from '../tasks/hcvStage';
import { heartRisk } from '../tasks/heartRisk';
import { lesionImages } from '../tasks/lesionImages';
import { initialWeights } from '../tasks/modelSpec';
import { templateFamily, type TaskTemplate } from '../tasks/spec';
import { concat, type Dataset } from './dataset';
import { evaluateModel, type Evaluation } from './evaluate';
import { hospitalSplit } from './split';
import { trainLocal } from './train';

/** Rounds the demo federation runs; the baselines train for rounds × localEpochs epochs. */
export const DEMO_ROUNDS = 3;

/** What every demo hospital profile has, whatever its template. */
export interface DemoProfile {
  id: string;
  name: string;
  /** Number of records or scans. */
  size: number;
}

export interface SiteSplit<P extends DemoProfile = DemoProfile> {
  profile: P;
  train: Dataset;
  validation: Dataset;
}

interface DemoSource<P extends DemoProfile> {
  hospitals: P[];
  /** The site's synthetic data, split exactly as that site's browser splits it. */
  split(template: TaskTemplate, profile: P): { train: Dataset; validation: Dataset };
}

const demoSource = <P extends DemoProfile>(source: DemoSource<P>) => source as unknown as DemoSource<DemoProfile>;

/** Each template's demo hospitals and their data. */
const demoSources: Record<string, DemoSource<DemoProfile>> = {
  [heartRisk.id]: demoSource({
    hospitals: demoHospitals,
    split: (template, profile) => hospitalSplit(template, profile.id, generateHeartRecords(profile)),
  }),
  [hcvStage.id]: demoSource({
    hospitals: hcvHospitals,
    split: (template, profile) => hospitalSplit(template, profile.id, generateHcvRecords(profile)),
  }),
  [lesionImages.id]: demoSource({
    hospitals: lesionHospitals,
    split: (template, profile) => lesionSplit(profile.id, generateLesionImages(profile, template.image?.width), template.defaults),
  }),
};

function sourceFor(template: TaskTemplate): DemoSource<DemoProfile> {
  const source = demoSources[templateFamily(template.id)];
  if (!source) throw new RangeError(`no demo hospitals for template '${template.id}'`);
  return source;
}

/** The demo hospital profiles of a template. */
export function demoProfiles(template: TaskTemplate): DemoProfile[] {
  return sourceFor(template).hospitals;
}

/**
 * Each demo hospital's synthetic data, split exactly as that hospital's browser splits it. `hospitals`
 * defaults to the template's demo sites.
 */
export function demoSplits(): SiteSplit<HospitalProfile>[];
export function demoSplits<P extends DemoProfile = DemoProfile>(template: TaskTemplate, hospitals?: P[]): SiteSplit<P>[];
export function demoSplits<P extends DemoProfile>(template: TaskTemplate = heartRisk, hospitals?: P[]): SiteSplit<P>[] {
  const source = sourceFor(template);
  const profiles = (hospitals ?? source.hospitals) as P[];
  return profiles.map((profile) => ({ profile, ...source.split(template, profile) }));
}

export interface BaselineResult {
  /** On the pooled validation splits. */
  accuracy: number;
  loss: number;
  /** Accuracy of always answering the pooled validation splits' commoner label (commonest class). */
  majorityRate: number;
  trainSamples: number;
  validationSamples: number;
  /** Multi-class templates: recall of each class, by class index (NaN for a class absent from validation). */
  perClassRecall?: number[];
  /** Multi-class templates: unweighted mean of the per-class F1. */
  macroF1?: number;
  /** Multi-class templates: `confusionMatrix[actual][predicted]` on the pooled validation splits. */
  confusionMatrix?: number[][];
}

export interface BaselineOptions<P extends DemoProfile = DemoProfile> {
  template?: TaskTemplate;
  hospitals?: P[];
  /** Default: DEMO_ROUNDS × the template's localEpochs, the epochs a demo federation trains. */
  epochs?: number;
  /** Called after each epoch with its mean training loss and the seconds it took. */
  onEpochEnd?: (epoch: number, loss: number, seconds: number) => void;
}

/** Pooled-validation figures of an evaluation: the majority bar, and per-class figures for softmax models. */
export function baselineFigures(
  template: TaskTemplate,
  evaluation: Evaluation,
  validation: Dataset,
): Pick<BaselineResult, 'accuracy' | 'loss' | 'majorityRate' | 'perClassRecall' | 'macroF1' | 'confusionMatrix'> {
  const { accuracy, loss, confusionMatrix } = evaluation;
  if (template.model.loss !== 'categoricalCrossentropy' || !confusionMatrix) {
    return { accuracy, loss, majorityRate: majorityRate(validation.y) };
  }
  return {
    accuracy,
    loss,
    majorityRate: majorityClassRate(validation.y),
    perClassRecall: perClassRecall(confusionMatrix),
    macroF1: macroF1(confusionMatrix),
    confusionMatrix,
  };
}

/**
 * What pooling the data would achieve, the yardstick federated training is held to: one model trained
 * on every hospital's training split together, from the study's initial weights, scored on every
 * hospital's validation split together. Needs a backend registered by the caller.
 */
export async function centralBaseline<P extends DemoProfile>(options: BaselineOptions<P> = {}): Promise<BaselineResult> {
  const template = options.template ?? heartRisk;
  const { defaults, model: spec } = template;
  const sites = demoSplits(template, options.hospitals);
  const train = concat(sites.map((s) => s.train));
  const validation = concat(sites.map((s) => s.validation));
  let epochStarted = performance.now();
  const result = await trainLocal({
    spec,
    weights: initialWeights(spec, defaults.seed),
    data: train,
    epochs: options.epochs ?? DEMO_ROUNDS * defaults.localEpochs,
    batchSize: defaults.batchSize,
    learningRate: defaults.learningRate,
    seed: deriveSeed(defaults.seed, 'central'),
    onEpochEnd: options.onEpochEnd
      ? (epoch, loss) => {
          const now = performance.now();
          options.onEpochEnd!(epoch, loss, (now - epochStarted) / 1000);
          epochStarted = now;
        }
      : undefined,
  });
  const evaluation = await evaluateModel(spec, result.weights, validation);
  return {
    ...baselineFigures(template, evaluation, validation),
    trainSamples: train.n,
    validationSamples: validation.n,
  };
}
