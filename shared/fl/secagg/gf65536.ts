/**
 * Arithmetic in GF(2^16), the field Shamir's shares live in: addition is XOR, multiplication goes
 * through log and antilog tables of the generator 2 modulo the primitive polynomial
 * x^16 + x^5 + x^3 + x^2 + 1. With 65,535 non-zero points a round can share among as many sites.
 */
const POLY = 0x1002d;
const ORDER = 0xffff;

const EXP = new Uint16Array(2 * ORDER);
const LOG = new Uint16Array(ORDER + 1);
{
  let x = 1;
  for (let i = 0; i < ORDER; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x10000) x ^= POLY;
  }
  // Doubled, so a product's log sum needs no reduction.
  for (let i = ORDER; i < 2 * ORDER; i++) EXP[i] = EXP[i - ORDER];
}

export const FIELD_SIZE = ORDER + 1;

export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a] + LOG[b]];
}

export function gfDiv(a: number, b: number): number {
  if (b === 0) throw new RangeError('division by zero in GF(2^16)');
  if (a === 0) return 0;
  return EXP[LOG[a] + ORDER - LOG[b]];
}

/** The multiplicative order of 2 (the tables' period): 65,535 exactly when the polynomial is primitive. */
export function generatorOrder(): number {
  const seen = new Set<number>();
  for (let i = 0; i < ORDER; i++) seen.add(EXP[i]);
  return seen.size;
}
