import type { WeightedUpdate } from './fedavg';
import { maxOf, selectInPlace, selectTwoInPlace } from './select';

/**
 * Coordinate-wise statistics across updates. The n values of a block of coordinates are gathered
 * into one scratch array, coordinate after coordinate (reading each update's run of the block in
 * order, where gathering one coordinate at a time would hop between n arrays for every value), and
 * the order statistics each coordinate needs are selected in its stretch of the scratch
 * (quickselect, expected O(n)). Memory does not grow with the number of updates beyond the
 * model-sized result. Each statistic has its own loop: a reducer passed as a callback is not
 * inlined and costs about 40 % here.
 */
const BLOCK = 128;

export function coordinateMedian(base: readonly Float32Array[], ordered: readonly WeightedUpdate[]): Float64Array[] {
  const n = ordered.length;
  const mid = n >> 1;
  const odd = n % 2 === 1;
  const scratch = new Float64Array(BLOCK * n);
  return base.map((b, t) => {
    const columns = ordered.map((u) => u.delta[t]);
    const out = new Float64Array(b.length);
    for (let i0 = 0; i0 < out.length; i0 += BLOCK) {
      const m = gatherBlock(columns, i0, out.length, scratch);
      for (let c = 0, lo = 0; c < m; c++, lo += n) {
        selectInPlace(scratch, lo, lo + n - 1, lo + mid);
        // For an even count the lower middle value is the largest of those below the upper one.
        out[i0 + c] = odd ? scratch[lo + mid] : (maxOf(scratch, lo, lo + mid - 1) + scratch[lo + mid]) / 2;
      }
    }
    return out;
  });
}

/**
 * Mean of each coordinate's values with the `trim` smallest and `trim` largest left out: the
 * `trim`-th and (n − trim − 1)-th order statistics are selected together (`selectTwoInPlace`), which
 * leaves the kept values between them; they are summed in the order they then lie in, a fixed function of the inputs in
 * participant order.
 */
export function coordinateTrimmedMean(base: readonly Float32Array[], ordered: readonly WeightedUpdate[], trim: number): Float64Array[] {
  const n = ordered.length;
  const kept = n - 2 * trim;
  if (kept < 1) throw new Error(`trimming ${trim} of ${n} values at each end leaves none`);
  const scratch = new Float64Array(BLOCK * n);
  const top = n - trim - 1;
  return base.map((b, t) => {
    const columns = ordered.map((u) => u.delta[t]);
    const out = new Float64Array(b.length);
    for (let i0 = 0; i0 < out.length; i0 += BLOCK) {
      const m = gatherBlock(columns, i0, out.length, scratch);
      for (let c = 0, lo = 0; c < m; c++, lo += n) {
        if (trim > 0) selectTwoInPlace(scratch, lo, lo + n - 1, lo + trim, lo + top);
        let sum = 0;
        for (let j = lo + trim; j <= lo + top; j++) sum += scratch[j];
        out[i0 + c] = sum / kept;
      }
    }
    return out;
  });
}

/** Coordinates `i0…` (up to BLOCK, fewer at the end) into `scratch`, n values per coordinate; returns how many. */
function gatherBlock(columns: readonly Float32Array[], i0: number, length: number, scratch: Float64Array): number {
  const n = columns.length;
  const m = Math.min(BLOCK, length - i0);
  for (let k = 0; k < n; k++) {
    const col = columns[k];
    for (let c = 0, at = k; c < m; c++, at += n) scratch[at] = col[i0 + c];
  }
  return m;
}
