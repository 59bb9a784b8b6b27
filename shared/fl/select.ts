/**
 * Quickselect (Hoare's FIND with a median-of-three pivot, insertion sort below 16 values): after
 * `selectInPlace(a, lo, hi, k)`, `a[k]` holds the value a sorted `a[lo..hi]` would hold there,
 * every value before it in the range is ≤ it and every value after ≥ it. Expected O(n) instead of
 * a sort's O(n log n); the coordinate-wise rules need only one or two order statistics per
 * coordinate. Values must not be NaN (updates are checked finite before aggregation).
 */
export function selectInPlace(a: Float64Array, lo: number, hi: number, k: number): void {
  while (hi - lo > 16) {
    // Median of three: a[lo] ≤ a[lo + 1] = pivot ≤ a[hi] are the sentinels of the scans below.
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
    a[lo] = x;
    a[hi] = z;
    a[mid] = a[lo + 1];
    a[lo + 1] = y;
    const pivot = y;
    let i = lo + 1;
    let j = hi;
    for (;;) {
      do i++;
      while (a[i] < pivot);
      do j--;
      while (a[j] > pivot);
      if (j < i) break;
      t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    a[lo + 1] = a[j];
    a[j] = pivot;
    // a[lo..j) ≤ pivot = a[j] ≤ a(j..hi]
    if (j >= k) hi = j - 1;
    if (j <= k) lo = j + 1;
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
