/** Cheap deterministic values in ±0.01 (an LCG): benches measure the server, not data generation. */
export function fill(t: Float32Array, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < t.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    t[i] = (s / 4294967296 - 0.5) * 0.02;
  }
  return t;
}
