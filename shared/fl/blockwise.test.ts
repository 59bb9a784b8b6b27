import { describe, expect, it } from 'vitest';
import { aggregateBlockwise, defaultBlockSize, type BlockwiseParticipant, type UpdateBlocks } from './blockwise';
import type { WeightedUpdate } from './fedavg';
import { clipUpdates } from './normBound';
import { createStrategy, type StrategyConfigInput } from './registry';
import type { ServerState } from './state';
import { StrategyError } from './strategy';
import { sumsOfSquares } from './sums';
import { mulberry32 } from '../synthetic/rng';


/**
 * n updates over tensors of the given lengths: values of widely varying magnitude (so that a sum
 * taken in another order would round differently: float32 values within a few decades sum exactly
 * in float64, whatever the order), with some coordinates where every update agrees,
 * some with repeated values (ties for the selections), some zeros and negative zeros, and one update
 * (when n > 3) a copy of another (a Krum score tie).
 */
function randomUpdates(seed: number, n: number, lengths: readonly number[]): WeightedUpdate[] {
  const rand = mulberry32(seed);
  const updates: WeightedUpdate[] = Array.from({ length: n }, (_, k) => ({
    participantId: `site-${String(k).padStart(2, '0')}`,
    numSamples: 1 + Math.floor(rand() * 500),
    delta: lengths.map((len) => new Float32Array(len)),
  }));
  lengths.forEach((len, t) => {
    for (let i = 0; i < len; i++) {
      const kind = rand();
      const shared = (rand() - 0.5) * 2;
      for (let k = 0; k < n; k++) {
        let v: number;
        if (kind < 0.05) v = shared;
        else if (kind < 0.1) v = Math.round(rand() * 3) - 1;
        else if (kind < 0.12) v = rand() < 0.5 ? 0 : -0;
        // Float32 values spread over ~2⁶⁰: a float64 sum of a few of them rounds, so its order shows in the bits.
        else if (kind < 0.6) v = (rand() - 0.5) * 2 ** (rand() * 60 - 30);
        else v = (rand() - 0.5) * 10 ** (rand() * 6 - 3);
        updates[k].delta[t][i] = v;
      }
    }
  });
  // An outlier, so the Krum scores spread out.
  if (n > 2) for (const d of updates[n - 1].delta) for (let i = 0; i < d.length; i++) d[i] = d[i] * 40 + 3;
  if (n > 3) updates[2].delta = updates[1].delta.map((d) => d.slice());
  return updates;
}

function randomBase(seed: number, lengths: readonly number[]): Float32Array[] {
  const rand = mulberry32(seed * 7919 + 1);
  return lengths.map((len) => Float32Array.from({ length: len }, () => (rand() - 0.5) * 4));
}

/** An in-memory source over the updates (in participant-id order), checking every read stays in the model. */
function memorySource(ordered: readonly WeightedUpdate[], onRead?: (k: number, start: number, length: number) => void): UpdateBlocks {
  const flat = ordered.map((u) => {
    const out = new Float32Array(u.delta.reduce((s, d) => s + d.length, 0));
    let at = 0;
    for (const d of u.delta) {
      out.set(d, at);
      at += d.length;
    }
    return out;
  });
  return {
    count: ordered.length,
    async read(k, start, out) {
      onRead?.(k, start, out.length);
      if (!(k >= 0 && k < flat.length) || start < 0 || start + out.length > flat[k].length) throw new Error(`read out of range: ${k} ${start} ${out.length}`);
      out.set(flat[k].subarray(start, start + out.length));
    },
  };
}

function participantsOf(ordered: readonly WeightedUpdate[]): BlockwiseParticipant[] {
  const norms = sumsOfSquares(ordered.map((u) => u.delta));
  return ordered.map((u, k) => ({ participantId: u.participantId, numSamples: u.numSamples, norm: Math.sqrt(norms[k]), scale: 1, clipped: false }));
}

const bytes = (t: Float32Array) => Buffer.from(t.buffer, t.byteOffset, t.byteLength);

function expectSameBits(actual: Float32Array[], expected: Float32Array[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((t, i) => {
    expect(t.length).toBe(expected[i].length);
    if (!bytes(t).equals(bytes(expected[i]))) expect.fail(`tensor ${i} differs in its bits`);
  });
}

const models: number[][] = [
  [37, 1, 1013],
  [5, 259],
  [0, 129, 3],
];

const rules: { config: StrategyConfigInput; counts: number[] }[] = [
  { config: { name: 'median' }, counts: [1, 2, 5, 6, 9] },
  { config: { name: 'trimmed-mean' }, counts: [1, 4, 5, 8, 11] },
  { config: { name: 'trimmed-mean', options: { trimFraction: 0 } }, counts: [3] },
  { config: { name: 'trimmed-mean', options: { trimFraction: 0.4 } }, counts: [7, 10] },
  { config: { name: 'krum' }, counts: [5, 6, 9] },
  { config: { name: 'krum', options: { byzantine: 2 } }, counts: [7, 8] },
  { config: { name: 'multi-krum' }, counts: [5, 6, 10] },
  { config: { name: 'multi-krum', options: { byzantine: 2, select: 3 } }, counts: [7, 8] },
  { config: { name: 'multi-krum', options: { byzantine: 1, select: 50 } }, counts: [6] },
];

describe('aggregateBlockwise', () => {
  for (const { config, counts } of rules) {
    it(`gives ${JSON.stringify(config)} bit for bit as in memory, for every block size`, async () => {
      let seed = 1;
      for (const lengths of models) {
        const P = lengths.reduce((a, b) => a + b, 0);
        for (const n of counts) {
          seed++;
          const updates = randomUpdates(seed, n, lengths);
          const base = randomBase(seed, lengths);
          // In memory the updates may come in any order.
          const expected = createStrategy(config).aggregate(base, [...updates].reverse(), null);
          for (const blockSize of [1, 7, 1000, P + 5, undefined]) {
            if (blockSize === 1 && P > 300 && n > 6) continue; // keep the suite fast; 1 is covered on the other models
            const got = await aggregateBlockwise(config, base, participantsOf(updates), memorySource(updates), null, { blockSize });
            expectSameBits(got.weights, expected.weights);
            expect(got.report).toEqual(expected.report);
            expect(got.state).toBe(expected.state);
          }
        }
      }
    });
  }

  it('matches a norm-bounded round in memory when given the intake’s clipped updates, norms and bound', async () => {
    const lengths = [37, 1, 1013];
    for (const config of [
      { name: 'median', options: { normBound: { factor: 1 } } },
      { name: 'trimmed-mean', options: { normBound: { factor: 0.8 } } },
      { name: 'krum', options: { normBound: { factor: 1 } } },
      { name: 'multi-krum', options: { normBound: { factor: 1.2 } } },
    ] satisfies StrategyConfigInput[]) {
      const updates = randomUpdates(77, 7, lengths);
      const base = randomBase(77, lengths);
      const expected = createStrategy(config).aggregate(base, updates, null);
      const norms = Array.from(sumsOfSquares(updates.map((u) => u.delta)), Math.sqrt);
      const clip = clipUpdates(updates, norms, config.options.normBound);
      expect(clip.scales.some((s) => s < 1)).toBe(true);
      const participants = updates.map((u, k) => ({ participantId: u.participantId, numSamples: u.numSamples, norm: norms[k], scale: clip.scales[k], clipped: clip.scales[k] < 1 }));
      for (const blockSize of [7, 100, undefined]) {
        const got = await aggregateBlockwise(config, base, participants, memorySource(clip.updates), null, { blockSize, normBound: clip.bound });
        expectSameBits(got.weights, expected.weights);
        expect(got.report).toEqual(expected.report);
      }
    }
  });

  it('reports a reset when given another strategy’s state, as in memory', async () => {
    const lengths = [5, 259];
    const updates = randomUpdates(5, 5, lengths);
    const base = randomBase(5, lengths);
    const state: ServerState = { strategy: 'fedavgm', step: 3, slots: { velocity: lengths.map((l) => new Float32Array(l)) } };
    for (const config of [{ name: 'median' }, { name: 'krum' }] satisfies StrategyConfigInput[]) {
      const expected = createStrategy(config).aggregate(base, updates, state);
      const got = await aggregateBlockwise(config, base, participantsOf(updates), memorySource(updates), state, { blockSize: 50 });
      expect(got.report.stateReset).toBe(true);
      expect(got.report).toEqual(expected.report);
      expectSameBits(got.weights, expected.weights);
    }
  });

  it('never asks the reader for more than blockSize coordinates, and reads each coordinate of each update once per pass', async () => {
    const lengths = [37, 1, 1013];
    const P = 1051;
    for (const config of [{ name: 'median' }, { name: 'trimmed-mean' }, { name: 'krum' }, { name: 'multi-krum' }] satisfies StrategyConfigInput[]) {
      for (const blockSize of [1, 7, 1000, 5000]) {
        const n = 6;
        const updates = randomUpdates(9, n, lengths);
        const seen = Array.from({ length: n }, () => new Uint8Array(P));
        let largest = 0;
        const src = memorySource(updates, (k, start, length) => {
          largest = Math.max(largest, length);
          for (let i = start; i < start + length; i++) seen[k][i]++;
        });
        const got = await aggregateBlockwise(config, randomBase(9, lengths), participantsOf(updates), src, null, { blockSize });
        expect(largest).toBeLessThanOrEqual(blockSize);
        expect(largest).toBe(Math.min(blockSize, P));
        for (let k = 0; k < n; k++) {
          // One pass for the coordinate-wise rules; two for Krum, whose second reads only the chosen update.
          const expectedPasses = config.name === 'median' || config.name === 'trimmed-mean' ? 1 : config.name === 'multi-krum' || got.report.updates[k].selected ? 2 : 1;
          for (let i = 0; i < P; i++) if (seen[k][i] !== expectedPasses) expect.fail(`update ${k} coordinate ${i} read ${seen[k][i]} times`);
        }
      }
    }
  });

  it('defaults to n × block × 4 bytes ≈ 16 MiB, at least 1024 coordinates', async () => {
    expect(defaultBlockSize(1)).toBe(4 * 1024 * 1024);
    expect(defaultBlockSize(16)).toBe(256 * 1024);
    expect(defaultBlockSize(100_000)).toBe(1024);
    // 4200 updates: 16 MiB / (4 × 4200) is below 1024 coordinates.
    const n = 4200;
    const updates: WeightedUpdate[] = Array.from({ length: n }, (_, k) => ({
      participantId: `site-${String(k).padStart(4, '0')}`,
      numSamples: 1,
      delta: [Float32Array.from({ length: 1500 }, (_, i) => ((i * 31 + k * 17) % 101) / 7)],
    }));
    let largest = 0;
    const src = memorySource(updates, (_, __, len) => (largest = Math.max(largest, len)));
    await aggregateBlockwise({ name: 'median' }, [new Float32Array(1500)], participantsOf(updates), src, null);
    expect(largest).toBe(1024);
  });

  it('refuses what the in-memory strategy refuses, and what it cannot run', async () => {
    const lengths = [10];
    const updates = randomUpdates(4, 4, lengths);
    const base = randomBase(4, lengths);
    const run = (config: StrategyConfigInput, ups: WeightedUpdate[], participants = participantsOf(ups)) =>
      aggregateBlockwise(config, base, participants, memorySource(ups), null);
    const code = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (err) {
        expect(err).toBeInstanceOf(StrategyError);
        return (err as StrategyError).code;
      }
      return 'none';
    };
    expect(await code(run({ name: 'krum' }, updates))).toBe('too_few_updates');
    expect(await code(run({ name: 'median' }, []))).toBe('no_updates');
    const negative = participantsOf(updates).map((p, k) => (k === 1 ? { ...p, numSamples: -1 } : p));
    expect(await code(run({ name: 'median' }, updates, negative))).toBe('bad_samples');
    await expect(run({ name: 'fedavg' }, updates)).rejects.toThrow(/not aggregated blockwise/);
    await expect(run({ name: 'median' }, updates, participantsOf(updates).reverse())).rejects.toThrow(/participant-id order/);
    await expect(run({ name: 'median' }, updates, participantsOf(updates).slice(1))).rejects.toThrow(/holds 4 updates/);
    await expect(aggregateBlockwise({ name: 'median' }, base, participantsOf(updates), memorySource(updates), null, { blockSize: 0 })).rejects.toThrow(/blockSize/);
  });
});
