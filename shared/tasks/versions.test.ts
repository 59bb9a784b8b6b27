import { describe, expect, it } from 'vitest';
import { foldAttributions, meanPatient } from '../explain/integratedGradients';
import { encodedColumns, encodedWidth, encodeRecords } from './encoding';
import { hcvStage, hcvStageV2 } from './hcvStage';
import { heartRisk, heartRiskV2 } from './heartRisk';
import { isLatestVersion, lesionImages, lesionImagesV2, parameterCount } from './index';
import { taskTemplateSchema, templateFamily, templateVersionId } from './spec';
import { withMissingIndicators } from './versions';

describe('template versions', () => {
  it('names versions after their family and keeps the family for the data', () => {
    expect(heartRiskV2.id).toBe('heart-risk@2');
    expect(hcvStageV2.id).toBe('hcv-stage@2');
    expect(templateFamily('heart-risk@2')).toBe('heart-risk');
    expect(templateFamily('heart-risk')).toBe('heart-risk');
    expect(templateVersionId('heart-risk', 1)).toBe('heart-risk');
    expect(isLatestVersion(heartRiskV2)).toBe(true);
    expect(isLatestVersion(heartRisk)).toBe(false);
    // The residual network is offered beside the small CNN (an alternative, for GPU sites): it supersedes nothing.
    expect(lesionImagesV2.alternative).toMatch(/GPU/);
    expect(isLatestVersion(lesionImages)).toBe(true);
    expect(isLatestVersion(lesionImagesV2)).toBe(true);
    expect(templateFamily(lesionImagesV2.id)).toBe('lesion-images');
    const r = taskTemplateSchema.safeParse({ ...heartRiskV2, id: 'heart-risk@3' });
    expect(r.success ? '' : r.error.issues.map((i) => i.message).join()).toMatch(/version 2 of a template is named 'heart-risk@2'/);
  });

  it('gives the lesion scans a residual network in version 2, the same scans and labels, the CNN of version 1 unchanged', () => {
    expect(lesionImagesV2.id).toBe('lesion-images@2');
    expect(lesionImagesV2.image).toEqual(lesionImages.image);
    expect(lesionImagesV2.label).toEqual(lesionImages.label);
    expect(lesionImagesV2.changes).toMatch(/ResNet-18/);
    expect(lesionImagesV2.model.layers.filter((l) => l.type === 'residualBlock').map((l) => l.type === 'residualBlock' && l.filters)).toEqual([16, 16, 32, 32, 64, 64, 128, 128]);
    expect(parameterCount(lesionImagesV2.model)).toBe(700_001);
    expect(parameterCount(lesionImages.model)).toBe(34_081);
  });

  it('keeps the features and adds one input per feature for its missing indicator', () => {
    for (const [v1, v2] of [
      [heartRisk, heartRiskV2],
      [hcvStage, hcvStageV2],
    ] as const) {
      expect(v2.features.map((f) => f.name)).toEqual(v1.features.map((f) => f.name));
      expect(v2.features.every((f) => f.missingIndicator)).toBe(true);
      expect(v1.features.some((f) => f.missingIndicator)).toBe(false);
      expect(v2.model.inputDim).toBe(encodedWidth(v1.features) + v1.features.length);
      expect(v2.model.layers).toEqual(v1.model.layers);
      expect(v2.defaults).toEqual(v1.defaults);
    }
    expect(encodedWidth(heartRisk.features)).toBe(22);
    expect(heartRiskV2.model.inputDim).toBe(35);
    expect(() => withMissingIndicators(lesionImages, 2)).toThrow(/images/);
  });

  it('encodes whether each value was missing after the value it imputes', () => {
    const features = heartRiskV2.features;
    const columns = encodedColumns(features);
    expect(columns.slice(0, 8)).toEqual(['age', 'age?', 'sex', 'sex?', 'cp=1', 'cp=2', 'cp=3', 'cp=4']);
    expect(columns[8]).toBe('cp?');
    const measured = { age: 60, sex: 0, cp: 2, trestbps: 140, chol: 250, fbs: 0, restecg: 1, thalach: 150, exang: 1, oldpeak: 1.5, slope: 2, ca: 1, thal: 7 };
    const { x, imputed } = encodeRecords(features, [
      { id: 'a', values: measured, label: 1 },
      { id: 'b', values: { ...measured, chol: null, cp: null }, label: 0 },
    ]);
    const width = columns.length;
    const at = (row: number, name: string) => x[row * width + columns.indexOf(name)];
    for (const f of features) expect(at(0, `${f.name}?`)).toBe(0);
    expect(at(0, 'chol')).toBeCloseTo((250 - 246.7) / 51.8, 5);
    expect(at(1, 'chol?')).toBe(1);
    expect(at(1, 'chol')).toBe(0);
    expect(at(1, 'cp?')).toBe(1);
    expect(at(1, 'cp=4')).toBe(1); // the mode, imputed
    expect(at(1, 'age?')).toBe(0);
    expect(imputed).toMatchObject({ chol: 1, cp: 1, age: 0 });
    // Version 1's encoding is the same minus the indicator columns.
    const v1 = encodeRecords(heartRisk.features, [{ id: 'b', values: { ...measured, chol: null, cp: null }, label: 0 }]).x;
    const kept = columns.map((c, j) => (c.endsWith('?') ? null : x[width + j])).filter((v) => v !== null);
    expect(Array.from(v1)).toEqual(kept);
  });

  it('explains against a patient with every value measured and folds each indicator into its feature', () => {
    const features = heartRiskV2.features;
    const baseline = meanPatient(features);
    const columns = encodedColumns(features);
    columns.forEach((c, j) => {
      if (c.endsWith('?')) expect(baseline[j]).toBe(0);
    });
    const attributions = new Float32Array(columns.length);
    attributions[columns.indexOf('chol')] = 0.25;
    attributions[columns.indexOf('chol?')] = 0.5;
    const folded = foldAttributions(features, attributions);
    expect(folded.find((a) => a.name === 'chol')?.attribution).toBeCloseTo(0.75);
    expect(folded.find((a) => a.name === 'trestbps')?.attribution).toBe(0);
  });
});
