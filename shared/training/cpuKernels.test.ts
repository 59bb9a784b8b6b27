import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../synthetic/rng';
import { registerFastCpuKernels } from './cpuKernels';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

function values(shape: number[], seed: number, levels = 0): tf.Tensor {
  const rand = mulberry32(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  // With `levels`, values repeat, so pooling windows hold ties.
  const data = Float32Array.from({ length: size }, () => (levels ? Math.floor(rand() * levels) / levels : rand() * 2 - 1));
  return tf.tensor(data, shape);
}

type Pad = 'same' | 'valid';
const convCases: { x: number[]; filter: number[]; strides: number | [number, number]; pad: Pad }[] = [
  { x: [4, 12, 12, 1], filter: [3, 3, 1, 8], strides: 1, pad: 'same' },
  { x: [3, 9, 7, 5], filter: [3, 2, 5, 4], strides: [2, 1], pad: 'valid' },
  { x: [2, 10, 11, 3], filter: [5, 5, 3, 2], strides: 2, pad: 'same' },
  { x: [2, 6, 6, 2], filter: [1, 1, 2, 3], strides: 3, pad: 'valid' },
];
const poolCases: { x: number[]; pool: [number, number]; strides: [number, number]; pad: Pad; levels: number }[] = [
  { x: [4, 16, 16, 8], pool: [2, 2], strides: [2, 2], pad: 'valid', levels: 0 },
  { x: [2, 9, 7, 3], pool: [3, 3], strides: [2, 2], pad: 'valid', levels: 4 },
  { x: [2, 7, 9, 2], pool: [2, 3], strides: [1, 2], pad: 'same', levels: 3 },
  { x: [1, 5, 5, 1], pool: [2, 2], strides: [2, 2], pad: 'same', levels: 0 },
];

function gradients(): Float32Array[] {
  const out: Float32Array[] = [];
  convCases.forEach((c, i) => {
    const x = values(c.x, 10 + i) as tf.Tensor4D;
    const w = values(c.filter, 20 + i) as tf.Tensor4D;
    const y = tf.conv2d(x, w, c.strides, c.pad);
    const dy = values(y.shape, 30 + i);
    const g = tf.grad((f: tf.Tensor) => tf.conv2d(x, f as tf.Tensor4D, c.strides, c.pad).mul(dy).sum())(w);
    out.push(g.dataSync() as Float32Array);
    tf.dispose([x, w, y, dy, g]);
  });
  poolCases.forEach((c, i) => {
    const x = values(c.x, 40 + i, c.levels) as tf.Tensor4D;
    const y = tf.maxPool(x, c.pool, c.strides, c.pad);
    const dy = values(y.shape, 50 + i);
    const g = tf.grad((v: tf.Tensor) => tf.maxPool(v as tf.Tensor4D, c.pool, c.strides, c.pad).mul(dy).sum())(x);
    out.push(g.dataSync() as Float32Array);
    tf.dispose([x, y, dy, g]);
  });
  return out;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('fast CPU kernels', () => {
  it('give the bits of the TF.js kernels they replace, and run faster', () => {
    const heavy = () => {
      const x = values([8, 16, 16, 8], 1) as tf.Tensor4D;
      const w = values([3, 3, 8, 16], 2) as tf.Tensor4D;
      const started = performance.now();
      tf.tidy(() => tf.grad((f: tf.Tensor) => tf.maxPool(tf.conv2d(x, f as tf.Tensor4D, 1, 'same'), 2, 2, 'valid').sum())(w).dataSync());
      tf.dispose([x, w]);
      return performance.now() - started;
    };
    const kernels = () => [tf.Conv2DBackpropFilter, tf.MaxPoolGrad].map((k) => tf.getKernel(k, 'cpu')?.kernelFunc);
    const before = kernels();
    const original = gradients();
    const originalMs = heavy();
    registerFastCpuKernels();
    kernels().forEach((k, i) => expect(k).not.toBe(before[i]));
    registerFastCpuKernels(); // idempotent
    const fast = gradients();
    const fastMs = heavy();
    expect(fast.map(bits)).toEqual(original.map(bits));
    expect(fastMs).toBeLessThan(originalMs);
  });
});
