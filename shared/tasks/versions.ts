import { encodedWidth } from './encoding';
import { taskTemplateSchema, templateVersionId, type TaskTemplate } from './spec';

/**
 * The next version of a tabular template with a missing indicator on every feature: the same
 * features (a site's data serves both), one more input per feature, 1 where the value was missing
 * and imputed. Without it an imputed value looks measured, and a feature missing at nearly every row
 * of one site mostly tells the model which site a patient came from; with it the model can learn what
 * a missing value means (a test not ordered says something too) apart from the value itself.
 */
export function withMissingIndicators(base: TaskTemplate, version: number): TaskTemplate {
  if (base.image) throw new RangeError(`'${base.id}' takes images: a scan has no missing values`);
  const features = base.features.map((f) => ({ ...f, missingIndicator: true }));
  return taskTemplateSchema.parse({
    ...base,
    id: templateVersionId(base.id, version),
    version,
    changes: 'Adds a missing indicator to every feature: the model tells an imputed value from a measured one.',
    features,
    model: { ...base.model, inputDim: encodedWidth(features) },
  });
}
