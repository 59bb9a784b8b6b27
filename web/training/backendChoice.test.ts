import { describe, expect, it } from 'vitest';
import { heartRisk, lesionImages, lesionImagesV2 } from '../../shared/tasks';
import type { BackendName } from '../../shared/protocol';
import {
  backendCandidates,
  chooseBackend,
  choiceCacheKey,
  gradientError,
  needsConvolution,
  relativeErrors,
  specHash,
  type BackendMeasurement,
} from './backendChoice';

describe('backend candidates', () => {
  it('tells convolutional models from dense ones', () => {
    expect(needsConvolution(lesionImages.model)).toBe(true);
    expect(needsConvolution(lesionImagesV2.model)).toBe(true);
    expect(needsConvolution({ layers: [{ type: 'residualBlock', filters: 8 }, { type: 'globalAveragePooling2d' }] })).toBe(true);
    expect(needsConvolution(heartRisk.model)).toBe(false);
  });

  it('probes every backend for a dense model, and passes WASM over for a CNN', () => {
    expect(backendCandidates(undefined, heartRisk.model)).toEqual({ candidates: ['webgpu', 'webgl', 'wasm', 'cpu'], skipped: [] });
    expect(backendCandidates(undefined, undefined).candidates).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    const cnn = backendCandidates(undefined, lesionImages.model);
    expect(cnn.candidates).toEqual(['webgpu', 'webgl', 'cpu']);
    expect(cnn.skipped).toEqual([{ backend: 'wasm', reason: expect.stringMatching(/convolution gradient/) }]);
  });

  it('takes a forced backend alone, and refuses to force WASM onto a CNN', () => {
    expect(backendCandidates('webgl', lesionImages.model).candidates).toEqual(['webgl']);
    expect(backendCandidates('wasm', heartRisk.model).candidates).toEqual(['wasm']);
    expect(() => backendCandidates('wasm', lesionImages.model)).toThrow(/wasm backend cannot train this study's model/);
  });
});

const ok = (backend: BackendName, msPerStep: number, gradientError: number | null = 0): BackendMeasurement => ({
  backend,
  available: true,
  msPerStep,
  samplesPerSecond: (32 * 1000) / msPerStep,
  gradientError,
});

describe('choosing a backend from measurements', () => {
  it('picks the fastest backend whose gradients agree with the CPU', () => {
    const choice = chooseBackend([ok('cpu', 12), ok('wasm', 4, 3e-7), ok('webgl', 9, 2e-6), { backend: 'webgpu', available: false, reason: 'fallback adapter' }]);
    expect(choice.chosen).toBe('wasm');
    expect(choice.figures.map((f) => [f.backend, f.verdict])).toEqual([
      ['webgpu', 'unavailable'],
      ['webgl', 'slower'],
      ['wasm', 'chosen'],
      ['cpu', 'slower'],
    ]);
    expect(choice.figures.find((f) => f.backend === 'cpu')?.note).toBe('3.0× the time of wasm per step');
  });

  it('refuses a backend that disagrees with the CPU, however fast it is', () => {
    const choice = chooseBackend([ok('cpu', 12), ok('webgl', 1, 0.05), ok('wasm', 6, 1e-6)]);
    expect(choice.chosen).toBe('wasm');
    const webgl = choice.figures.find((f) => f.backend === 'webgl')!;
    expect(webgl.verdict).toBe('refused');
    expect(webgl.note).toMatch(/gradients differ from the CPU backend's \(relative error 5\.0e-2 ≥ 1\.0e-2\)/);
  });

  it('refuses at the tolerance, on a non-finite error, and when the check could not run', () => {
    const choice = chooseBackend([ok('cpu', 50), ok('webgpu', 1, 1e-2), ok('webgl', 1, Number.NaN), ok('wasm', 1, null)]);
    expect(choice.chosen).toBe('cpu');
    expect(choice.figures.filter((f) => f.verdict === 'refused').map((f) => f.backend)).toEqual(['webgpu', 'webgl', 'wasm']);
    expect(chooseBackend([ok('cpu', 50), ok('webgl', 1, 0.02)], { tolerance: 0.05 }).chosen).toBe('webgl');
  });

  it('breaks a tie in probe order, and chooses nothing when nothing is usable', () => {
    expect(chooseBackend([ok('cpu', 5), ok('webgl', 5, 1e-6)]).chosen).toBe('webgl');
    expect(chooseBackend([ok('cpu', Number.POSITIVE_INFINITY), { backend: 'wasm', available: false, reason: 'failed to initialise' }])).toMatchObject({
      chosen: null,
      figures: [{ backend: 'wasm', verdict: 'unavailable' }, { backend: 'cpu', verdict: 'refused' }],
    });
  });
});

describe('gradient error', () => {
  const ref = [Float32Array.from([3, 4]), Float32Array.from([1])];
  it('is the worst per-tensor relative error', () => {
    expect(relativeErrors(ref, ref)).toEqual([0, 0]);
    const g = [Float32Array.from([3, 4.5]), Float32Array.from([1.01])];
    const errs = relativeErrors(g, ref);
    expect(errs[0]).toBeCloseTo(0.1, 6);
    expect(errs[1]).toBeCloseTo(0.01, 6);
    expect(gradientError(g, ref)).toBeCloseTo(0.1, 6);
  });

  it('measures a zero reference against eps, and calls mismatched or non-finite gradients infinitely wrong', () => {
    expect(relativeErrors([Float32Array.from([1e-9])], [Float32Array.from([0])])[0]).toBeCloseTo(1e-3, 9);
    expect(gradientError([Float32Array.from([1])], ref)).toBe(Infinity);
    expect(gradientError([Float32Array.from([3]), Float32Array.from([1])], ref)).toBe(Infinity);
    expect(gradientError([Float32Array.from([Number.NaN, 4]), Float32Array.from([1])], ref)).toBe(Infinity);
  });
});

describe('the cached choice', () => {
  it('is keyed by model, adapter and browser', () => {
    const base = { spec: heartRisk.model, userAgent: 'Chrome/156', adapter: null };
    const key = choiceCacheKey(base);
    expect(choiceCacheKey({ ...base, spec: JSON.parse(JSON.stringify(heartRisk.model)) })).toBe(key);
    expect(choiceCacheKey({ ...base, spec: lesionImages.model })).not.toBe(key);
    expect(choiceCacheKey({ ...base, adapter: 'nvidia ampere' })).not.toBe(key);
    expect(choiceCacheKey({ ...base, userAgent: 'Chrome/157' })).not.toBe(key);
  });

  it('hashes a spec independently of key order', () => {
    expect(specHash({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(specHash({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(specHash({ a: 1 })).not.toBe(specHash({ a: 2 }));
  });
});
