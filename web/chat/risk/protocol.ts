import type { Feature } from '../../../shared/tasks';

export type RiskBackend = 'cpu' | 'webgl';

export interface AssessArgs {
  /** Same-origin URL of the approved model's model.json. */
  modelUrl: string;
  /** The features with the study's statistics, as the public risk-model endpoint gives them. */
  features: Feature[];
  /** The patient's answers by feature name; null: not known, imputed like a missing value. */
  values: Record<string, number | null>;
}

export interface RiskAssessment {
  probability: number;
  /** The study's typical patient (the baseline of the attributions). */
  baselineProbability: number;
  logit: number;
  baselineLogit: number;
  /** One per feature, in feature order; they add up to `logit − baselineLogit` (up to `gap`). */
  attributions: { name: string; attribution: number }[];
  gap: number;
  steps: number;
  /** The version of the model that computed this, from its own metadata. */
  version: number;
  backend: string;
}

/**
 * The risk worker: loads the approved model and computes on the device. Its only requests are the
 * model's two files; the answers arrive by postMessage and never leave the worker but as the result.
 */
export interface RiskWorkerApi {
  /** Load (or reuse) the model; resolves with its version. Safe to call ahead of `assess`. */
  load(modelUrl: string, backend?: RiskBackend): Promise<{ version: number; backend: string }>;
  assess(args: AssessArgs): Promise<RiskAssessment>;
}
