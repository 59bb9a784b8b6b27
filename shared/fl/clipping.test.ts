import { describe, expect, it } from 'vitest';
import { clippingSchema, defaultClipping, estimatedInitialNorm, nextClipNorm } from './clipping';

const adaptive = clippingSchema.parse({ mode: 'adaptive', initialNorm: 2 });

describe('nextClipNorm', () => {
  it('starts the adaptive rule from the study’s initial norm, else from the given estimate', () => {
    expect(nextClipNorm(adaptive, { previousBound: null, previousNorms: [] }, 7)).toBe(2);
    expect(nextClipNorm(defaultClipping, { previousBound: null, previousNorms: [] }, 7)).toBe(7);
  });

  it('moves the bound geometrically toward the target quantile of the last round’s norms (Andrew et al. 2021)', () => {
    const { learningRate: eta, targetQuantile: gamma } = adaptive as { learningRate: number; targetQuantile: number };
    // 4 of 5 within the bound: it shrinks by exp(−η (0.8 − γ)).
    expect(nextClipNorm(adaptive, { previousBound: 1, previousNorms: [0.1, 0.2, 0.5, 0.9, 3] }, 7)).toBeCloseTo(Math.exp(-eta * (0.8 - gamma)), 12);
    // Exactly the target share within: it stays.
    expect(nextClipNorm(adaptive, { previousBound: 1, previousNorms: [0.5, 2] }, 7)).toBeCloseTo(1, 12);
  });

  it('lets no site drag the bound up faster than exp(η(1 − γ)) a round, however long its update', () => {
    const { learningRate: eta, targetQuantile: gamma } = adaptive as { learningRate: number; targetQuantile: number };
    const attacked = nextClipNorm(adaptive, { previousBound: 1, previousNorms: [1e30, 1e30, 1e30, 1e30, 1e30] }, 7)!;
    expect(attacked).toBeCloseTo(Math.exp(eta * (1 - gamma)), 12);
    // One of five huge: the honest majority within keeps the bound coming down.
    expect(nextClipNorm(adaptive, { previousBound: 1, previousNorms: [0.5, 0.6, 0.7, 0.8, 1e30] }, 7)).toBeLessThan(1);
  });

  it('keeps the last bound through a round without norms, and ignores non-finite ones', () => {
    expect(nextClipNorm(adaptive, { previousBound: 1.5, previousNorms: [] }, 7)).toBe(1.5);
    expect(nextClipNorm(adaptive, { previousBound: 1, previousNorms: [Number.NaN, 0.5, 2] }, 7)).toBeCloseTo(1, 12);
  });

  it('fixed, median and none', () => {
    expect(nextClipNorm({ mode: 'fixed', norm: 3 }, { previousBound: 1, previousNorms: [9] }, 7)).toBe(3);
    expect(nextClipNorm({ mode: 'median', factor: 2 }, { previousBound: null, previousNorms: [1, 3, 100] }, 7)).toBe(6);
    expect(nextClipNorm({ mode: 'median', factor: 2 }, { previousBound: null, previousNorms: [] }, 7)).toBeNull();
    expect(nextClipNorm({ mode: 'none' }, { previousBound: 1, previousNorms: [1] }, 7)).toBeNull();
  });

  it('refuses settings that make no sense, naming them', () => {
    expect(clippingSchema.safeParse({ mode: 'adaptive', targetQuantile: 1 }).error?.issues[0].message).toMatch(/targetQuantile must be below 1/);
    expect(clippingSchema.safeParse({ mode: 'fixed', norm: 0 }).error?.issues[0].message).toMatch(/norm must be above 0/);
    expect(clippingSchema.safeParse({ mode: 'none', norm: 1 }).success).toBe(false);
  });

  it('estimates a first bound from the model when no one measured one', () => {
    expect(estimatedInitialNorm(10_000, 0.01)).toBeCloseTo(10, 12);
  });
});
