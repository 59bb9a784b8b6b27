import { describe, expect, it } from 'vitest';
import { hcvStage, heartRisk, lesionImages, lesionImagesV2, parameterCount, weightShapes, type ModelSpec } from '../../shared/tasks';
import { countText, modelGraph, shapeText } from './modelGraph';

const weightTotal = (spec: ModelSpec) => weightShapes(spec).reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);

describe('modelGraph', () => {
  it('draws heart-risk as input, hidden layer, output, with shapes and parameters', () => {
    const g = modelGraph(heartRisk.model);
    expect(g.nodes.map((n) => [n.title, shapeText(n.shape), n.parameters, n.activation])).toEqual([
      ['Input', '22', 0, null],
      ['Dense', '16', 22 * 16 + 16, 'relu'],
      ['Dense (output)', '1', 16 + 1, 'sigmoid'],
    ]);
    expect(g.totalParameters).toBe(385);
    expect(g.weightBytes).toBe(385 * 4);
    expect(g.loss).toBe('binary cross-entropy');
  });

  it('draws the lesion CNN with every window, shape and count', () => {
    const g = modelGraph(lesionImages.model);
    expect(g.nodes.map((n) => `${n.title} [${n.details.join(', ')}] ${shapeText(n.shape)} ${n.parameters}`)).toEqual([
      'Input [] 32×32×1 0',
      'Conv2D [8 filters, 3×3 kernel, stride 1×1, same padding] 32×32×8 80',
      'MaxPooling2D [2×2 pool, stride 2×2, valid padding] 16×16×8 0',
      'Conv2D [16 filters, 3×3 kernel, stride 1×1, same padding] 16×16×16 1168',
      'MaxPooling2D [2×2 pool, stride 2×2, valid padding] 8×8×16 0',
      'Flatten [to one vector] 1024 0',
      'Dense [32 units] 32 32800',
      'Dense (output) [1 unit] 1 33',
    ]);
  });

  for (const t of [heartRisk, hcvStage, lesionImages, lesionImagesV2]) {
    it(`totals ${t.id}'s parameters as the sum of its weight tensors' sizes`, () => {
      const g = modelGraph(t.model);
      expect(g.totalParameters).toBe(weightTotal(t.model));
      expect(g.totalParameters).toBe(parameterCount(t.model));
      expect(g.nodes.reduce((s, n) => s + n.parameters, 0)).toBe(g.totalParameters);
    });
  }

  it('draws the residual network block by block, halving the size where a stage begins', () => {
    const g = modelGraph(lesionImagesV2.model);
    expect(g.nodes.map((n) => `${n.title} ${shapeText(n.shape)} ${n.parameters}`)).toEqual([
      'Input 32×32×1 0',
      'Conv2D 32×32×16 160',
      'Residual block 32×32×16 4672',
      'Residual block 32×32×16 4672',
      'Residual block 16×16×32 14528',
      'Residual block 16×16×32 18560',
      'Residual block 8×8×64 57728',
      'Residual block 8×8×64 73984',
      'Residual block 4×4×128 230144',
      'Residual block 4×4×128 295424',
      'GlobalAveragePooling2D 128 0',
      'Dense (output) 1 129',
    ]);
    expect(g.nodes[4].details).toEqual(['32 filters', '2 × 3×3 conv', 'stride 2', 'GroupNorm, 8 groups']);
    expect(g.totalParameters).toBe(700_001);
  });

  it('shows the softmax output of a multi-class model', () => {
    const g = modelGraph(hcvStage.model);
    expect(g.nodes.at(-1)).toMatchObject({ title: 'Dense (output)', activation: 'softmax', shape: [4] });
    expect(g.loss).toBe('categorical cross-entropy');
  });
});

describe('countText', () => {
  it('groups thousands the same way in every locale', () => {
    expect(countText(7)).toBe('7');
    expect(countText(34081)).toBe('34,081');
    expect(countText(1234567)).toBe('1,234,567');
  });
});
