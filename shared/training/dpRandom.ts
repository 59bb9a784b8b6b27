/**
 * The randomness of DP-SGD: which records join each step (Poisson sampling) and the Gaussian noise.
 * Both must be secret. A study's seed is known to every site and to the server, and noise that anyone
 * can regenerate can be subtracted again, so the default source is the OS's CSPRNG
 * (crypto.getRandomValues); tests inject seeded generators instead.
 */

export interface DpRandom {
  /** Uniform on [0, 1). */
  uniform: () => number;
  /** Standard normal. */
  normal: () => number;
}

/** crypto.getRandomValues hands out at most 64 KiB a call: 16 Ki words, refilled when used up. */
const WORDS = 16_384;

/** A uniform source on [0, 1) with 53 random bits from crypto.getRandomValues. */
export function cryptoUniform(): () => number {
  const words = new Uint32Array(WORDS);
  let next = WORDS;
  return () => {
    if (next + 2 > WORDS) {
      crypto.getRandomValues(words);
      next = 0;
    }
    const hi = words[next++] >>> 5; // 27 bits
    const lo = words[next++] >>> 6; // 26 bits
    return (hi * 67_108_864 + lo) / 9_007_199_254_740_992;
  };
}

/** Standard normals from a uniform source (Box–Muller, both values of each pair used). */
export function normalFrom(uniform: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    // 1 − u is in (0, 1]: the logarithm stays finite.
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const theta = 2 * Math.PI * uniform();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}

/** The secret source DP-SGD uses unless a test injects its own. */
export function secretRandom(): DpRandom {
  const uniform = cryptoUniform();
  return { uniform, normal: normalFrom(cryptoUniform()) };
}

/**
 * One step's Poisson sample of `n` records: each joins independently with probability `q`, so the
 * batch size varies and may be 0. Drawn by geometric gaps between the chosen indices (the same
 * distribution as n coin flips), so a step costs about q·n draws rather than n.
 */
export function poissonSample(n: number, q: number, uniform: () => number): number[] {
  if (!(q > 0 && q <= 1)) throw new RangeError(`the sample rate must be in (0, 1], got ${q}`);
  if (q === 1) return Array.from({ length: n }, (_, i) => i);
  const logMiss = Math.log1p(-q);
  const chosen: number[] = [];
  // P(gap ≥ k) = (1 − q)^k: the records skipped before the next one chosen.
  for (let i = Math.floor(Math.log(1 - uniform()) / logMiss); i < n; i += 1 + Math.floor(Math.log(1 - uniform()) / logMiss)) chosen.push(i);
  return chosen;
}
