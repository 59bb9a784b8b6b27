import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../synthetic/rng';
import { scaleBitsFor } from './bounds';
import { exactFedAvg, FixedPointSum } from './fixedPoint';

const lengths = [37, 1, 513];

function updates(n: number, seed: number, huge = true) {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, (_, k) => ({
    participantId: `site-${String(k).padStart(3, '0')}`,
    // Mostly hospital-sized counts, now and then the largest an update may declare.
    numSamples: huge && k % 7 === 3 ? 100_000_000 : 1 + Math.floor(rand() * 5000),
    // Values over many decades up to the default bound, signs mixed: float64 addition in a running
    // order would differ, and the largest weighted values take the split path.
    delta: lengths.map((len) => Float32Array.from({ length: len }, () => Math.min(1024, (rand() - 0.5) * 10 ** Math.floor(rand() * 10 - 6)))),
  }));
}

const sha = (tensors: readonly (Float32Array | Float64Array)[]) => {
  const h = createHash('sha256');
  for (const t of tensors) h.update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  return h.digest('hex');
};

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  const rand = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('FixedPointSum', () => {
  const scaleBits = scaleBitsFor(100_000_000, 1024);

  it('gives the same bits whatever order the updates arrive in', () => {
    // More than 32 updates: carries fall at different updates in different orders.
    const list = updates(71, 7);
    const digests = new Set<string>();
    for (let s = 0; s < 6; s++) {
      const sum = new FixedPointSum(lengths, scaleBits);
      let total = 0;
      for (const u of shuffled(list, s)) sum.add(u.numSamples, u.delta);
      // The total weight is summed in participant order, as the server does.
      for (const u of list) total += u.numSamples;
      digests.add(sha(sum.mean(total)));
    }
    expect(digests.size).toBe(1);
    const base = lengths.map((n) => new Float32Array(n).fill(0.25));
    expect(new Set([0, 1, 2].map((s) => sha(exactFedAvg(base, shuffled(list, s), scaleBits)))).size).toBe(1);
  });

  it('is the weighted mean to within its documented resolution', () => {
    // Modest values, so the float64 reference itself is accurate enough to judge by.
    const list = updates(50, 11, false).map((u) => ({ ...u, delta: u.delta.map((t) => t.map((v) => Math.max(-1, Math.min(1, v)))) }));
    const sum = new FixedPointSum(lengths, scaleBits);
    let total = 0;
    for (const u of list) {
      sum.add(u.numSamples, u.delta);
      total += u.numSamples;
    }
    const mean = sum.mean(total);
    let worst = 0;
    lengths.forEach((len, t) => {
      for (let i = 0; i < len; i++) {
        let exact = 0;
        for (const u of list) exact += u.numSamples * u.delta[t][i];
        worst = Math.max(worst, Math.abs(mean[t][i] - exact / total));
      }
    });
    // Each weighted value is rounded to 2^-S: the mean is off by at most n·2^-(S+1) / Σw.
    expect(worst).toBeLessThanOrEqual((list.length * 2 ** -(scaleBits + 1)) / total + 1e-15);
  });

  it('gives the same bits with the WebAssembly SIMD fold as with the JavaScript loop, staged or not', () => {
    const list = updates(40, 5);
    const simd = new FixedPointSum(lengths, scaleBits);
    const plain = new FixedPointSum(lengths, scaleBits, { simd: false });
    expect(simd.simd).toBe(true);
    expect(plain.simd).toBe(false);
    for (const u of list) {
      simd.add(u.numSamples, u.delta, 0.75);
      plain.add(u.numSamples, u.delta, 0.75);
    }
    // Values put straight into the staging area (as the server reads payloads), odd lengths included.
    // With a bound on the values (the update's norm) the kernel skips its range test: the same bits.
    const flat = Float32Array.from(list[0].delta.flatMap((t) => [...t]));
    const norm = Math.sqrt(flat.reduce((a, v) => a + v * v, 0));
    const stage = simd.staging()!;
    for (let off = 0; off < flat.length; off += 101) {
      const part = flat.subarray(off, off + 101);
      stage.set(part);
      simd.addRange(simd.multiplier(3), off, stage.subarray(0, part.length), norm);
      plain.addRange(plain.multiplier(3), off, part);
    }
    expect(sha(simd.mean(12345))).toBe(sha(plain.mean(12345)));
  });

  it('folds an update given in ranges exactly as given whole, and clips by its factor', () => {
    const [u] = updates(1, 3);
    const whole = new FixedPointSum(lengths, scaleBits);
    whole.add(u.numSamples, u.delta, 0.5);
    const ranges = new FixedPointSum(lengths, scaleBits);
    const flat = Float32Array.from(u.delta.flatMap((t) => [...t]));
    const m = ranges.multiplier(u.numSamples, 0.5);
    for (let off = 0; off < flat.length; off += 100) ranges.addRange(m, off, flat.subarray(off, off + 100));
    ranges.countUpdate();
    expect(sha(ranges.mean(7))).toBe(sha(whole.mean(7)));
    expect(() => whole.add(0, u.delta)).toThrow(/positive/);
    expect(() => whole.add(1, [u.delta[0]])).toThrow(/tensors/);
  });
});
