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

export const templates: Record<string, TaskTemplate> = {
  [heartRisk.id]: heartRisk,
  [hcvStage.id]: hcvStage,
  [lesionImages.id]: lesionImages,
};

export function getTemplate(id: string): TaskTemplate | undefined {
  return templates[id];
}
