import { describe, expect, it } from 'vitest';
import { aggregationReportSchema } from './report';
import { createStrategy, defaultStrategyConfig, strategies, strategyConfigSchema } from './registry';
import { StrategyError, strategyNames } from './strategy';

const f = (...v: number[]) => Float32Array.from(v);

/** Seven sites of a two-tensor model, deterministic pseudo-random deltas. */
function round(seed: number) {
  return Array.from({ length: 7 }, (_, i) => ({
    participantId: `site-${i}`,
    numSamples: 10 + ((i * 7 + seed) % 13),
    delta: [Float32Array.from({ length: 12 }, (_, j) => Math.sin(seed * 31 + i * 13 + j) * 0.01), f(Math.cos(seed + i) * 0.1)],
  }));
}

describe('strategy registry', () => {
  it('has every strategy, each creating a rule of its own name', () => {
    expect(Object.keys(strategies).sort()).toEqual([...strategyNames].sort());
    for (const name of strategyNames) expect(createStrategy({ name }).name).toBe(name);
  });

  it('fills defaults, so the stored configuration says exactly what ran', () => {
    expect(strategyConfigSchema.parse({ name: 'fedadam' })).toEqual({
      name: 'fedadam',
      // Issue 20: warm start, β₁ 0.5, η 1 in units of round 1's RMS mean delta (was cold start, absolute η 0.01; see shared/fl/adaptive.ts).
      options: { normBound: null, tau: 1e-3, beta1: 0.5, beta2: 0.99, serverLearningRate: 1, warmStart: true, relativeStep: true },
    });
    // A configuration stored before the warm start existed names its old values; warmStart is filled, and its η stays absolute.
    expect(strategyConfigSchema.parse({ name: 'fedyogi', options: { normBound: null, tau: 1e-3, beta1: 0.9, beta2: 0.99, serverLearningRate: 0.01 } }).options).toMatchObject({ serverLearningRate: 0.01, relativeStep: false });
    expect(strategyConfigSchema.parse({ name: 'trimmed-mean', options: { normBound: {} } }).options).toEqual({
      normBound: { factor: 1 },
      trimFraction: 0.2,
    });
    expect(defaultStrategyConfig).toEqual({ name: 'fedavg', options: { normBound: null } });
    const json = JSON.parse(JSON.stringify(strategyConfigSchema.parse({ name: 'multi-krum', options: { byzantine: 2 } })));
    expect(strategyConfigSchema.parse(json)).toEqual(json);
  });

  it('refuses unknown names, misspelt options and out-of-range values', () => {
    expect(strategyConfigSchema.safeParse({ name: 'fedsgd' }).success).toBe(false);
    expect(strategyConfigSchema.safeParse({ name: 'fedadam', options: { learningRate: 0.1 } }).success).toBe(false);
    expect(strategyConfigSchema.safeParse({ name: 'fedavgm', options: { momentum: 1 } }).success).toBe(false);
    expect(strategyConfigSchema.safeParse({ name: 'krum', options: { byzantine: 1.5 } }).success).toBe(false);
    expect(strategyConfigSchema.safeParse({ name: 'fedavg', options: { normBound: { factor: 0 } } }).success).toBe(false);
    expect(() => createStrategy({ name: 'trimmed-mean', options: { trimFraction: 0.6 } } as never)).toThrow();
  });

  describe.each(strategyNames)('%s', (name) => {
    const s = createStrategy({ name });

    it('gives the same bits whatever order the updates arrive in, over three rounds', () => {
      let a: Float32Array[] = [new Float32Array(12), f(0)];
      let b: Float32Array[] = [new Float32Array(12), f(0)];
      let sa = null;
      let sb = null;
      for (let r = 1; r <= 3; r++) {
        const ups = round(r);
        const ra = s.aggregate(a, ups, sa);
        const rb = s.aggregate(b, [...ups].reverse(), sb);
        ra.weights.forEach((t, i) => expect(Buffer.from(t.buffer).equals(Buffer.from(rb.weights[i].buffer))).toBe(true));
        ({ weights: a, state: sa } = ra);
        ({ weights: b, state: sb } = rb);
        expect(aggregationReportSchema.parse(ra.report)).toEqual(ra.report);
        expect(ra.report.updates.map((u) => u.participantId)).toEqual(ups.map((u) => u.participantId).sort());
      }
    });

    it('leaves its inputs untouched', () => {
      const base = [f(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), f(1)];
      const ups = round(5);
      const copy = ups.map((u) => u.delta.map((t) => Array.from(t)));
      createStrategy({ name, options: { normBound: { factor: 0.5 } } } as never).aggregate(base, ups);
      expect(ups.map((u) => u.delta.map((t) => Array.from(t)))).toEqual(copy);
      expect(Array.from(base[1])).toEqual([1]);
    });

    it('refuses no updates, mismatched tensors and bad sample counts with coded errors', () => {
      const code = (fn: () => unknown) => {
        try {
          fn();
        } catch (err) {
          return err instanceof StrategyError ? err.code : String(err);
        }
        return 'no error';
      };
      const base = [new Float32Array(12), f(0)];
      expect(code(() => s.aggregate(base, []))).toBe('no_updates');
      const ups = round(1);
      ups[3] = { ...ups[3], delta: [new Float32Array(11), f(0)] };
      expect(code(() => s.aggregate(base, ups))).toBe('shape_mismatch');
      const negative = round(1);
      negative[2] = { ...negative[2], numSamples: -1 };
      expect(code(() => s.aggregate(base, negative))).toBe('bad_samples');
    });
  });
});
