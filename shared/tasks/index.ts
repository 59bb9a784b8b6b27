import { hcvStage, hcvStageV2 } from './hcvStage';
import { heartRisk, heartRiskV2 } from './heartRisk';
import { lesionImages, lesionImagesV2 } from './lesionImages';
import { templateFamily, type TaskTemplate } from './spec';

export * from './spec';
export * from './encoding';
export * from './modelSpec';
export * from './design';
export * from './dictionary';
export { heartRisk, heartRiskFeatures, heartRiskV2 } from './heartRisk';
export { hcvStage, hcvStageClasses, hcvStageFeatures, hcvStageV2 } from './hcvStage';
export { withMissingIndicators } from './versions';
export { LESION_INPUT_SIZE, lesionImages, lesionImagesV2 } from './lesionImages';
export { DENSE_BENCH_MAX_PARAMS, DENSE_BENCH_MIN_PARAMS, DENSE_BENCH_TEMPLATE_ID, denseBenchLayout, denseBenchTemplate } from './denseBench';

export const templates: Record<string, TaskTemplate> = {
  [heartRisk.id]: heartRisk,
  [heartRiskV2.id]: heartRiskV2,
  [hcvStage.id]: hcvStage,
  [hcvStageV2.id]: hcvStageV2,
  [lesionImages.id]: lesionImages,
  [lesionImagesV2.id]: lesionImagesV2,
};

/** The template families this build ships (custom ones, registered later, are not among them). */
export const builtInFamilies: ReadonlySet<string> = new Set(Object.keys(templates).map(templateFamily));

/** Whether a newer version of this template exists (new studies are offered the newest first). */
export function isLatestVersion(template: TaskTemplate): boolean {
  const family = templateFamily(template.id);
  // An alternative (a bigger model beside the main line) supersedes nothing.
  return !Object.values(templates).some((t) => templateFamily(t.id) === family && !t.alternative && t.version > template.version);
}

export function getTemplate(id: string): TaskTemplate | undefined {
  return templates[id];
}

/**
 * Adds a template made at run time (the server's `BENCH_STUDY` does, before it starts serving). The
 * same one again changes nothing; another under a taken id (a built-in's, say) is refused.
 */
export function registerTemplate(template: TaskTemplate): void {
  const existing = templates[template.id];
  if (existing && JSON.stringify(existing) !== JSON.stringify(template)) throw new Error(`another template '${template.id}' is already registered`);
  templates[template.id] = template;
}
