import { addStep } from './sums';

/**
 * An exact, order-independent running sum of weighted float32 updates.
 *
 * Each value is weighted and rounded once to a multiple of 2^-scaleBits: x = round(w·s·d·2^S), a
 * function of that update alone. The integers x are summed exactly, so the sum is the same bits
 * whatever the order the updates arrive in, whether they are folded one by one as uploads land,
 * replayed after a crash, or (later) summed by several processes and added together.
 *
 * Exactness: an integer-valued float64 is exact below 2^53, too little for weights of up to 10^8
 * samples at a fine scale, so each p = w·s·d·2^S (|p| < 2^61, see `scaleBitsFor`) is split into two
 * limbs, h = nearest(p·2^-32) and l = nearest(p − h·2^32), so x = h·2^32 + l = nearest(p) with
 * |h| < 2^29 and |l| ≤ 2^31, each limb summed in its own float64 array: both sums stay exact up to
 * 2^20 updates. Both roundings are the float64 "add and subtract 1.5·2^52" (round half to even,
 * exact for |v| < 2^51): plain arithmetic, three times faster here than Math.round. The mean is
 * (Σh·2^32 + Σl)·2^-S / Σw, rounded twice, the same way every time.
 *
 * Memory: 16 bytes a parameter (the two limbs), whatever the number of updates.
 */
export const MAX_FIXED_POINT_UPDATES = 2 ** 20;
const LIMB = 2 ** 32;
const INV_LIMB = 2 ** -32;
/** v + ROUND − ROUND is v rounded to the nearest integer (ties to even) for |v| < 2^51. */
const ROUND = 1.5 * 2 ** 52;

export class FixedPointSum {
  readonly length: number;
  private readonly hi: Float64Array;
  private readonly lo: Float64Array;
  private count = 0;

  constructor(
    readonly lengths: readonly number[],
    readonly scaleBits: number,
  ) {
    this.length = lengths.reduce((a, b) => a + b, 0);
    this.hi = new Float64Array(this.length);
    this.lo = new Float64Array(this.length);
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
   * An update may come in any number of ranges; call `countUpdate` once for it.
   */
  addRange(multiplier: number, offset: number, values: Float32Array): void {
    const n = values.length;
    if (offset < 0 || offset + n > this.length) throw new Error(`coordinates ${offset}…${offset + n} outside the model's ${this.length}`);
    const hi = this.hi;
    const lo = this.lo;
    for (let i = 0, j = offset; i < n; i++, j++) {
      const p = values[i] * multiplier;
      const h = p * INV_LIMB + ROUND - ROUND;
      hi[j] += h;
      lo[j] += p - h * LIMB + ROUND - ROUND;
    }
  }

  countUpdate(): void {
    if (++this.count > MAX_FIXED_POINT_UPDATES) throw new Error(`a round's sum takes at most ${MAX_FIXED_POINT_UPDATES} updates`);
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
      for (let i = 0; i < n; i++) t[i] = ((this.hi[off + i] * LIMB + this.lo[off + i]) * unit) / totalWeight;
      out.push(t);
      off += n;
    }
    return out;
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
