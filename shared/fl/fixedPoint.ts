import { foldKernel, type FoldKernels } from './fixedPointKernel';
import { addStep } from './sums';

/**
 * An exact, order-independent running sum of weighted float32 updates.
 *
 * Each value is weighted and rounded once to a multiple of 2^-scaleBits: x = nearest(w·s·d·2^S), a
 * function of that update alone. The integers x are summed exactly, so the sum is the same bits
 * whatever the order the updates arrive in, whether they are folded one by one as uploads land,
 * replayed after a crash, or (later) summed by several processes and added together.
 *
 * Exactness: an integer-valued float64 is exact below 2^53, too little for weights of up to 10^8
 * samples at a fine scale (|x| may reach 2^60, see `scaleBitsFor`), so the sum is kept in two limbs,
 * Σx = hi·2^32 + acc. A value with |p| < 2^47 (nearly all) is rounded and added to acc alone; a
 * larger one is split, h = nearest(p·2^-32) to hi and nearest(p − h·2^32) to acc. Every CARRY_EVERY
 * updates acc's high part moves to hi, so |acc| < 2^31 + 32·2^47 < 2^53 between carries and |hi|
 * stays below 2^51 for 2^20 updates: every addition is exact. Which limb holds what depends on the
 * order; the integer they make does not, and the mean is (hi·2^32 + acc)·2^-S / Σw, rounded twice,
 * the same way every time. Both roundings are the float64 "add and subtract 1.5·2^52" (ties to even,
 * exact for |v| < 2^51) in JavaScript and f64x2.nearest in the SIMD kernel: the same IEEE results.
 *
 * Memory: 16 bytes a parameter (the two limbs), whatever the number of updates.
 *
 * Speed: the limbs live in a WebAssembly memory and the fold runs as SIMD (fixedPointKernel.ts),
 * two coordinates an instruction and, for nearly every value, one array read and written, where
 * SIMD is missing the same JavaScript loop. A caller that fills `staging()` itself (the server reads
 * payloads straight into it) spares a copy.
 */
export const MAX_FIXED_POINT_UPDATES = 2 ** 20;
const LIMB = 2 ** 32;
const INV_LIMB = 2 ** -32;
/** v + ROUND − ROUND is v rounded to the nearest integer (ties to even) for |v| < 2^51. */
const ROUND = 1.5 * 2 ** 52;
/** Weighted values at least this large are split between the limbs (the kernel's 2^47 too). */
const SPLIT = 2 ** 47;
/** Updates between carries: 32 values below 2^47 on top of a carried |acc| < 2^31 stay below 2^53. */
const CARRY_EVERY = 32;

/** Values staged per call of the SIMD kernel. */
const STAGE = 64 * 1024;

export class FixedPointSum {
  readonly length: number;
  private readonly acc: Float64Array;
  private readonly hi: Float64Array;
  private readonly kernel: FoldKernels | null = null;
  private readonly memory: WebAssembly.Memory | null = null;
  private readonly stage: Float32Array | null = null;
  private count = 0;

  constructor(
    readonly lengths: readonly number[],
    readonly scaleBits: number,
    options: { simd?: boolean; stagingValues?: number } = {},
  ) {
    const n = (this.length = lengths.reduce((a, b) => a + b, 0));
    const staged = Math.max(STAGE, options.stagingValues ?? 0);
    const memory = options.simd === false ? null : simdMemory(16 * n + 4 * staged);
    const kernel = memory ? foldKernel(memory) : null;
    if (memory && kernel) {
      this.memory = memory;
      this.kernel = kernel;
      this.acc = new Float64Array(memory.buffer, 0, n);
      this.hi = new Float64Array(memory.buffer, 8 * n, n);
      this.stage = new Float32Array(memory.buffer, 16 * n, staged);
    } else {
      this.acc = new Float64Array(n);
      this.hi = new Float64Array(n);
    }
  }

  /** Whether the fold runs as WebAssembly SIMD here. */
  get simd(): boolean {
    return this.kernel !== null;
  }

  /**
   * Where a caller may put values for `addRange` without a copy (null without SIMD): 64 Ki values,
   * or `stagingValues` when asked. Its first 64 Ki are overwritten by any `addRange` of values from
   * elsewhere.
   */
  staging(): Float32Array | null {
    return this.stage;
  }

  /** Updates folded in so far. */
  get updates(): number {
    return this.count;
  }

  /** The factor values are multiplied by before rounding: weight × clip scale × 2^S. */
  multiplier(weight: number, clipScale = 1): number {
    if (!(weight > 0) || !Number.isFinite(weight)) throw new Error(`an update's weight must be positive, got ${weight}`);
    return weight * clipScale * 2 ** this.scaleBits;
  }

  /**
   * Folds `values`, coordinates [offset, offset + values.length) of one update, with `multiplier`.
   * An update may come in any number of ranges; call `countUpdate` once for it. `maxAbs`, a bound on
   * |value| the caller knows (the update's norm), lets the kernel skip its range test.
   */
  addRange(multiplier: number, offset: number, values: Float32Array, maxAbs = Infinity): void {
    const n = values.length;
    if (offset < 0 || offset + n > this.length) throw new Error(`coordinates ${offset}…${offset + n} outside the model's ${this.length}`);
    if (!this.kernel) return this.addScalar(multiplier, offset, values, 0, n);
    if (values.buffer === this.memory!.buffer) return this.addKernel(multiplier, offset, values, maxAbs);
    const stage = this.stage!;
    for (let at = 0; at < n; at += STAGE) {
      const m = Math.min(STAGE, n - at);
      stage.set(values.subarray(at, at + m));
      this.addKernel(multiplier, offset + at, stage.subarray(0, m), maxAbs);
    }
  }

  /** Values in this sum's own memory: whole blocks by a kernel, the tail by the loop. */
  private addKernel(multiplier: number, offset: number, values: Float32Array, maxAbs: number): void {
    const n = values.length;
    const fast = maxAbs * Math.abs(multiplier) < SPLIT;
    const bulk = n & (fast ? ~7 : ~3);
    if (bulk > 0) (fast ? this.kernel!.addFast : this.kernel!.add)(8 * offset, 8 * this.length, values.byteOffset, bulk, multiplier);
    if (bulk < n) this.addScalar(multiplier, offset, values, bulk, n);
  }

  /** The fold in JavaScript, values [from, to) to coordinates offset + from…: the kernel's integers. */
  private addScalar(multiplier: number, offset: number, values: Float32Array, from: number, to: number): void {
    const acc = this.acc;
    const hi = this.hi;
    for (let i = from, j = offset + from; i < to; i++, j++) {
      const p = values[i] * multiplier;
      if (p < SPLIT && p > -SPLIT) acc[j] += p + ROUND - ROUND;
      else {
        const h = p * INV_LIMB + ROUND - ROUND;
        hi[j] += h;
        acc[j] += p - h * LIMB + ROUND - ROUND;
      }
    }
  }

  /** acc's high part into hi, exactly (h·2^32 leaves acc and joins hi), so acc stays far below 2^53. */
  private carry(): void {
    const acc = this.acc;
    const hi = this.hi;
    for (let j = 0; j < acc.length; j++) {
      const v = acc[j];
      if (v < LIMB && v > -LIMB) continue;
      const h = v * INV_LIMB + ROUND - ROUND;
      hi[j] += h;
      acc[j] = v - h * LIMB;
    }
  }

  countUpdate(): void {
    if (++this.count > MAX_FIXED_POINT_UPDATES) throw new Error(`a round's sum takes at most ${MAX_FIXED_POINT_UPDATES} updates`);
    if (this.count % CARRY_EVERY === 0) this.carry();
  }

  /** One whole update (its tensors in order), weighted. */
  add(weight: number, delta: readonly Float32Array[], clipScale = 1): void {
    const m = this.multiplier(weight, clipScale);
    if (delta.length !== this.lengths.length) throw new Error(`an update of ${delta.length} tensors added to a model of ${this.lengths.length}`);
    let off = 0;
    delta.forEach((t, k) => {
      if (t.length !== this.lengths[k]) throw new Error(`tensor ${k} has ${t.length} values, the model ${this.lengths[k]}`);
      this.addRange(m, off, t);
      off += t.length;
    });
    this.countUpdate();
  }

  /** Σ(w·s·d) / `totalWeight`, per tensor. `totalWeight` must be summed in a fixed order (participant ids). */
  mean(totalWeight: number): Float64Array[] {
    if (!(totalWeight > 0)) throw new Error('a weighted mean needs a positive total weight');
    const unit = 2 ** -this.scaleBits;
    const out: Float64Array[] = [];
    let off = 0;
    for (const n of this.lengths) {
      const t = new Float64Array(n);
      // hi·2^32 is exact and acc is exact: their float64 sum is Σx rounded once, however it is split.
      for (let i = 0; i < n; i++) t[i] = ((this.hi[off + i] * LIMB + this.acc[off + i]) * unit) / totalWeight;
      out.push(t);
      off += n;
    }
    return out;
  }
}

function simdMemory(bytes: number): WebAssembly.Memory | null {
  if (typeof WebAssembly === 'undefined') return null;
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  try {
    return new WebAssembly.Memory({ initial: pages, maximum: pages });
  } catch {
    // Larger than WebAssembly allows (4 GiB): the JavaScript loop over plain arrays.
    return null;
  }
}

/**
 * `base + Σ wᵢ·Δᵢ / Σ wᵢ` through the exact sum at `scaleBits`, the weights summed in participant-id
 * order: the model the server makes from these updates in a round of that scale (FedAvg), whatever
 * order they arrived in.
 */
export function exactFedAvg(
  base: readonly Float32Array[],
  updates: readonly { participantId: string; numSamples: number; delta: readonly Float32Array[] }[],
  scaleBits: number,
): Float32Array[] {
  const ordered = [...updates].sort((a, b) => (a.participantId < b.participantId ? -1 : a.participantId > b.participantId ? 1 : 0));
  const sum = new FixedPointSum(
    base.map((b) => b.length),
    scaleBits,
  );
  let total = 0;
  for (const u of ordered) {
    sum.add(u.numSamples, u.delta);
    total += u.numSamples;
  }
  return addStep(base, sum.mean(total));
}
