import { describe, expect, it } from 'vitest';
import { heartRisk, lesionImages } from '../../shared/tasks';
import { backendCandidates, needsConvolution } from './backendChoice';

describe('backend candidates', () => {
  it('tells convolutional models from dense ones', () => {
    expect(needsConvolution(lesionImages.model)).toBe(true);
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
