import { hcvStage } from './hcvStage';
import { heartRisk } from './heartRisk';
import { lesionImages } from './lesionImages';
import type { TaskTemplate } from './spec';

export * from './spec';
export * from './encoding';
export * from './modelSpec';
export { heartRisk, heartRiskFeatures } from './heartRisk';
export { hcvStage, hcvStageClasses, hcvStageFeatures } from './hcvStage';
export { LESION_INPUT_SIZE, lesionImages } from './lesionImages';
export { DENSE_BENCH_MAX_PARAMS, DENSE_BENCH_MIN_PARAMS, DENSE_BENCH_TEMPLATE_ID, denseBenchLayout, denseBenchTemplate } from './denseBench';

export const templates: Record<string, TaskTemplate> = {
  [heartRisk.id]: heartRisk,
  [hcvStage.id]: hcvStage,
  [lesionImages.id]: lesionImages,
};

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
