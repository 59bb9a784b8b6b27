import { describe, expect, it } from 'vitest';
import { DENSE_BENCH_MAX_PARAMS, DENSE_BENCH_MIN_PARAMS, DENSE_BENCH_TEMPLATE_ID, denseBenchLayout, denseBenchTemplate } from './denseBench';
import { getTemplate, registerTemplate } from './index';
import { heartRisk } from './heartRisk';
import { parameterCount, weightShapes } from './modelSpec';

describe('the dense bench template', () => {
  it('makes a model of the size asked for, or within 0.1 % of it', () => {
    for (const p of [DENSE_BENCH_MIN_PARAMS, 100, 385, 10_000, 123_457, 1_000_000, 10_000_000]) {
      const t = denseBenchTemplate(p);
      const n = parameterCount(t.model);
      expect(n).toBe(denseBenchLayout(p).params);
      expect(Math.abs(n - p)).toBeLessThanOrEqual(p * 0.001);
      expect(t.features.length).toBe(t.model.inputDim);
      expect(t.features.length).toBeLessThanOrEqual(64);
    }
  });

  it('gives 385 the heart model\'s shapes: one hidden layer, 22 inputs × 16 units', () => {
    expect(weightShapes(denseBenchTemplate(385).model).map((w) => w.shape)).toEqual(weightShapes(heartRisk.model).map((w) => w.shape));
  });

  it('refuses a size it cannot make', () => {
    expect(() => denseBenchLayout(DENSE_BENCH_MIN_PARAMS - 1)).toThrow(RangeError);
    expect(() => denseBenchLayout(DENSE_BENCH_MAX_PARAMS + 1)).toThrow(RangeError);
    expect(() => denseBenchLayout(1000.5)).toThrow(RangeError);
  });
});

describe('registering a template at run time', () => {
  it('takes the same template again, and refuses another under a taken id', () => {
    registerTemplate(denseBenchTemplate(1000));
    registerTemplate(denseBenchTemplate(1000));
    expect(getTemplate(DENSE_BENCH_TEMPLATE_ID)?.model).toEqual(denseBenchTemplate(1000).model);
    expect(() => registerTemplate(denseBenchTemplate(2000))).toThrow(/another template 'bench-dense'/);
    expect(() => registerTemplate({ ...denseBenchTemplate(1000), id: heartRisk.id })).toThrow(/another template 'heart-risk'/);
    expect(getTemplate(heartRisk.id)).toBe(heartRisk);
  });
});
