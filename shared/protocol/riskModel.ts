import { z } from 'zod';
import { featureSchema } from '../tasks/spec';

const rate = z.number().min(0).max(1);

/**
 * What a patient's device needs to run a study's approved model, from
 * `GET /api/public/studies/:id/risk-model` (no account). Public by design: the template, the
 * approved version, its pooled validation metrics, and the study's aggregate feature statistics.
 * Nothing about any one site or patient. The model itself loads from `modelUrl` (TF.js layers format).
 */
export const publicRiskModelSchema = z.object({
  studyId: z.string(),
  studyName: z.string(),
  templateId: z.string(),
  /** What the model estimates, e.g. "Heart disease present". */
  outcome: z.string(),
  version: z.number().int().min(0),
  approvedAt: z.string().nullable(),
  /** `tf.loadLayersModel` loads this (its weights.bin sits beside it); its `X-Model-Version` header names the version. */
  modelUrl: z.string(),
  /**
   * The version's metrics on the sites' held-back validation splits, pooled (confusion counts summed
   * across sites); null until a site has reported on it. Sensitivity and specificity at threshold 0.5.
   */
  validation: z
    .object({
      numSamples: z.number().int().min(0),
      sites: z.number().int().min(0),
      accuracy: rate,
      auroc: rate,
      sensitivity: rate.nullable(),
      specificity: rate.nullable(),
    })
    .nullable(),
  /**
   * Where the features' means, standard deviations and modes come from: the study's global
   * statistics, combined from its sites' aggregates before the first round (what every site trains
   * with), or, before a study has them, the template's published reference values (what version 0
   * and a study's first tabs use).
   */
  statistics: z.discriminatedUnion('source', [
    z.object({ source: z.literal('study'), sites: z.number().int().min(1) }),
    z.object({ source: z.literal('reference') }),
  ]),
  /**
   * The template's features in encoding order, their labels, units, ranges and codes, with the
   * statistics above in `mean`/`std` (numeric) and `mode` (binary, categorical): encoding answers
   * with `encodeRecords(features, …)` is exactly how the sites encode their records.
   */
  features: z.array(featureSchema).min(1),
});
export type PublicRiskModel = z.infer<typeof publicRiskModelSchema>;
