/**
 * The integers secure aggregation sums: each value of a (clipped, weighted) update as a fixed-point
 * integer, round(v · 2^f), in the ring Z/2^b, b = 32 or 64. Masks are uniform in the ring and cancel
 * in the sum; the sum's true value must fit the ring as a signed number, hence the bit budget.
 *
 * A 64-bit ring is held as two 32-bit lanes per value (low word first), added with carries, so the
 * hot loop stays in 32-bit integer arithmetic.
 */
export type RingBits = 32 | 64;

export interface RingBudget {
  /** ceil(log2(sites × max weight × value range × 2^f)) + 1 sign bit: what the sum needs. */
  needed: number;
  /** The ring that holds it. */
  bits: RingBits;
}

/**
 * The ring for a round: `sites` updates at most, each weighted by at most `maxWeight`, each value
 * within ±`range` (the clip), at `fractionBits` bits of fraction. 2^32 when it fits, else 2^64;
 * beyond 64 bits, a RangeError naming what to lower.
 */
export function ringBudget(sites: number, maxWeight: number, range: number, fractionBits: number): RingBudget {
  const needed = Math.ceil(Math.log2(sites * maxWeight * range) + fractionBits) + 1;
  if (needed <= 32) return { needed, bits: 32 };
  if (needed <= 64) return { needed, bits: 64 };
  throw new RangeError(`the sum needs ${needed} bits (${sites} sites × weight ${maxWeight} × range ${range} × 2^${fractionBits}): lower the fraction bits or the clip`);
}

/** Words per value. */
export const lanes = (bits: RingBits): 1 | 2 => (bits === 32 ? 1 : 2);

const TWO32 = 4294967296;

/**
 * `values` × `weight` as ring elements, round to nearest at 2^-f: each value's error is at most
 * 2^-(f+1), a sum of n at most n · 2^-(f+1). |weight · value · 2^f| must stay below 2^53.
 */
export function encodeFixed(values: ArrayLike<number>, weight: number, fractionBits: number, bits: RingBits): Uint32Array {
  const scale = weight * 2 ** fractionBits;
  const out = new Uint32Array(values.length * lanes(bits));
  for (let i = 0; i < values.length; i++) {
    const q = Math.round(values[i] * scale);
    if (!Number.isSafeInteger(q)) throw new RangeError(`value ${values[i]} × ${scale} does not fit a fixed-point integer`);
    if (bits === 32) out[i] = q >>> 0;
    else {
      const lo = ((q % TWO32) + TWO32) % TWO32;
      out[2 * i] = lo;
      out[2 * i + 1] = ((q - lo) / TWO32) >>> 0;
    }
  }
  return out;
}

/** acc += x in the ring, in place (both in the same ring). */
export function ringAdd(acc: Uint32Array, x: Uint32Array, bits: RingBits): void {
  if (acc.length !== x.length) throw new RangeError(`ring vectors of ${acc.length} and ${x.length} words`);
  if (bits === 32) {
    for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] + x[i]) >>> 0;
    return;
  }
  for (let i = 0; i < acc.length; i += 2) {
    const lo = acc[i] + x[i];
    acc[i] = lo >>> 0;
    acc[i + 1] = (acc[i + 1] + x[i + 1] + (lo >= TWO32 ? 1 : 0)) >>> 0;
  }
}

/** acc −= x in the ring, in place. */
export function ringSub(acc: Uint32Array, x: Uint32Array, bits: RingBits): void {
  if (acc.length !== x.length) throw new RangeError(`ring vectors of ${acc.length} and ${x.length} words`);
  if (bits === 32) {
    for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] - x[i]) >>> 0;
    return;
  }
  for (let i = 0; i < acc.length; i += 2) {
    const lo = acc[i] - x[i];
    acc[i] = lo >>> 0;
    acc[i + 1] = (acc[i + 1] - x[i + 1] - (lo < 0 ? 1 : 0)) >>> 0;
  }
}

/** Ring elements read as signed fixed-point numbers: the sum, divided by 2^f. */
export function decodeFixed(ring: Uint32Array, fractionBits: number, bits: RingBits): Float64Array {
  const n = ring.length / lanes(bits);
  const out = new Float64Array(n);
  const unit = 2 ** -fractionBits;
  for (let i = 0; i < n; i++) {
    if (bits === 32) out[i] = (ring[i] | 0) * unit;
    else out[i] = ((ring[2 * i + 1] | 0) * TWO32 + ring[2 * i]) * unit;
  }
  return out;
}

/**
 * The ring and precision for a round when the study sets none: the 32-bit ring (the bytes of a float32
 * update) with as many fraction bits as its sum leaves, if that is at least `MIN_FRACTION_BITS_32`;
 * else the 64-bit ring with up to 40 (and never so many that one weighted value leaves float64's exact
 * integers). What matters is the error of the round's mean, not of one site's value: each site's
 * w·v is rounded by at most 2^-(f+1), so the mean Σ w·v / Σ w is off by at most n · 2^-(f+1) / Σ w =
 * 2^-(f+1) / w̄ per coordinate (w̄ the sites' mean weight). A 32-bit ring runs short of fraction bits
 * only when n × the weight cap is large, that is when the weights are large too: 100 sites of ~500
 * records leave f = 14 and an error under 2^-15 / 500 ≈ 6·10^-8, below float32's own rounding of a
 * delta near 1. At f = 12 the error is at most 1.2·10^-4 / w̄; below that the 64-bit ring is used.
 */
export const MIN_FRACTION_BITS_32 = 12;

export function chooseRing(sites: number, maxWeight: number, range: number, fractionBits: number | null): RingBudget & { fractionBits: number } {
  const magnitude = Math.log2(sites * maxWeight * Math.max(range, 1));
  if (fractionBits !== null) return { ...ringBudget(sites, maxWeight, Math.max(range, 1), fractionBits), fractionBits };
  const in32 = Math.floor(31 - magnitude);
  if (in32 >= MIN_FRACTION_BITS_32) return { ...ringBudget(sites, maxWeight, Math.max(range, 1), in32), fractionBits: in32 };
  const in64 = Math.min(40, Math.floor(63 - magnitude), Math.floor(52 - Math.log2(maxWeight * Math.max(range, 1))));
  if (in64 < 8) throw new RangeError(`the sum of ${sites} sites × weight ${maxWeight} × range ${range} leaves the 64-bit ring under 8 bits of fraction`);
  return { ...ringBudget(sites, maxWeight, Math.max(range, 1), in64), fractionBits: in64 };
}
