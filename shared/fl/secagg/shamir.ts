import { gfDiv, gfMul } from './gf65536';

/**
 * Shamir's t-of-n secret sharing (1979) over GF(2^16), 16 bits of the secret at a time: each
 * 16-bit word gets its own random polynomial of degree t − 1 with the word as constant term, and
 * share i is every polynomial's value at x = i. Any t shares give the secret back by Lagrange
 * interpolation at 0; fewer are consistent with every secret (they say nothing about it).
 */
export interface Share {
  /** The evaluation point: 1 … 65,535, one per holder. */
  x: number;
  /** The polynomials' values at x, one 16-bit word per word of the secret. */
  y: Uint16Array;
}

/** Random 16-bit words; a cryptographic source (crypto.getRandomValues) in the product. */
export type RandomWords = (n: number) => Uint16Array;

export const cryptoWords: RandomWords = (n) => crypto.getRandomValues(new Uint16Array(n));

/** `secret` (bytes, padded with a zero to an even length) as shares for holders 1 … n, any `threshold` of which reconstruct it. */
export function split(secret: Uint8Array, n: number, threshold: number, random: RandomWords = cryptoWords): Share[] {
  if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new RangeError(`shares: 1 to 65,535 holders, got ${n}`);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > n) throw new RangeError(`threshold must be 1 … ${n}, got ${threshold}`);
  const words = toWords(secret);
  const shares: Share[] = Array.from({ length: n }, (_, i) => ({ x: i + 1, y: new Uint16Array(words.length) }));
  const coefficients = random(words.length * (threshold - 1));
  for (let w = 0; w < words.length; w++) {
    for (const share of shares) {
      // Horner, highest coefficient first: ((a_{t-1}·x + a_{t-2})·x + …)·x + secret.
      let y = 0;
      for (let k = threshold - 2; k >= 0; k--) y = gfMul(y ^ coefficients[w * (threshold - 1) + k], share.x);
      share.y[w] = y ^ words[w];
    }
  }
  return shares;
}

/** The secret from `threshold` or more shares (give it `bytes`, the secret's length). Fewer give a wrong value, never an error. */
export function combine(shares: readonly Share[], bytes: number): Uint8Array {
  if (shares.length === 0) throw new RangeError('no shares to combine');
  const xs = shares.map((s) => s.x);
  if (new Set(xs).size !== xs.length) throw new RangeError('two shares for the same holder');
  const words = shares[0].y.length;
  if (shares.some((s) => s.y.length !== words)) throw new RangeError('shares of different lengths');
  // Lagrange basis at 0: l_i(0) = Π_{j≠i} x_j / (x_j − x_i); subtraction is XOR.
  const basis = xs.map((xi, i) => xs.reduce((l, xj, j) => (j === i ? l : gfMul(l, gfDiv(xj, xj ^ xi))), 1));
  const out = new Uint16Array(words);
  for (let w = 0; w < words; w++) {
    let v = 0;
    for (let i = 0; i < shares.length; i++) v ^= gfMul(shares[i].y[w], basis[i]);
    out[w] = v;
  }
  return fromWords(out, bytes);
}

function toWords(bytes: Uint8Array): Uint16Array {
  const words = new Uint16Array(Math.ceil(bytes.length / 2));
  for (let i = 0; i < bytes.length; i++) words[i >> 1] |= bytes[i] << (i & 1 ? 8 : 0);
  return words;
}

function fromWords(words: Uint16Array, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (words[i >> 1] >> (i & 1 ? 8 : 0)) & 0xff;
  return out;
}
