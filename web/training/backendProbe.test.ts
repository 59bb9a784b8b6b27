import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../../shared/protocol';
import { hcvStage, heartRisk, initialWeights } from '../../shared/tasks';
import { chooseBackend, gradientError } from './backendChoice';
import { batchGradients, measureBackends, probeBatch, type Activation } from './backendProbe';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Node has only the CPU backend: every "backend" below runs on it, so all agree unless perturbed. */
const standIn = (unavailable: BackendName[] = []) => async (b: BackendName): Promise<Activation> =>
  unavailable.includes(b) ? { ok: false, reason: 'fallback adapter (SwiftShader)' } : { ok: true, adapter: `${b} stand-in` };

const quick = { batchSize: 16, warmupSteps: 1, timedSteps: 2 };

describe('measuring backends', () => {
  it('takes the gradients of a fixed, seeded batch: the same each time', async () => {
    const batch = probeBatch(hcvStage.model, 8, 3);
    expect(probeBatch(hcvStage.model, 8, 3)).toEqual(batch);
    const weights = initialWeights(hcvStage.model, 3);
    const a = await batchGradients(hcvStage.model, weights, batch);
    const b = await batchGradients(hcvStage.model, weights, batch);
    expect(a.map((g) => g.length)).toEqual(weights.map((w) => w.length));
    expect(a.every((g) => g.some((v) => v !== 0) && g.every(Number.isFinite))).toBe(true);
    expect(gradientError(b, a)).toBe(0);
  });

  it('times each usable backend and checks its gradients against the CPU', async () => {
    const before = tf.memory().numTensors;
    const m = await measureBackends(heartRisk.model, ['webgpu', 'webgl', 'wasm', 'cpu'], standIn(['webgpu']), quick);
    expect(m.map((x) => x.backend)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(m[0]).toEqual({ backend: 'webgpu', available: false, reason: 'fallback adapter (SwiftShader)' });
    for (const x of m.slice(1)) {
      expect(x).toMatchObject({ available: true, gradientError: 0 });
      if (x.available) expect(x.msPerStep).toBeGreaterThan(0);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a backend whose gradients disagree with the CPU', async () => {
    const m = await measureBackends(heartRisk.model, ['webgl', 'wasm', 'cpu'], standIn(), { ...quick, perturbation: { backend: 'webgl' } });
    const webgl = m.find((x) => x.backend === 'webgl')!;
    expect(webgl.available && webgl.gradientError).toBeCloseTo(0.05, 4);
    const choice = chooseBackend(m);
    expect(choice.chosen).not.toBe('webgl');
    expect(choice.figures.find((f) => f.backend === 'webgl')).toMatchObject({ verdict: 'refused', note: expect.stringMatching(/gradients differ/) });
    expect(choice.figures.filter((f) => f.verdict === 'chosen')).toHaveLength(1);
  });

  it('leaves the gradient check open when the CPU reference is unavailable, so the choice refuses', async () => {
    const m = await measureBackends(heartRisk.model, ['wasm', 'cpu'], standIn(['cpu']), quick);
    expect(m.find((x) => x.backend === 'wasm')).toMatchObject({ available: true, gradientError: null });
    expect(chooseBackend(m).chosen).toBeNull();
  });
});
