/**
 * The fixed-point fold's inner loop as WebAssembly SIMD, two coordinates per instruction: for each
 * value v, p = f64(v)·m, and the limbs gain exactly nearest(p) — the very operations of
 * `FixedPointSum.addRange`'s JavaScript loop (the same IEEE roundings, ties to even), so both keep
 * the same integer. Hand-assembled, it is a few hundred bytes: no toolchain, nothing to
 * download, and it runs wherever WebAssembly SIMD does (Node 16.4+, every current browser); where it
 * does not, the JavaScript loop runs instead.
 *
 * Export `add(acc, delta, src, n, m)`: the byte address of the first coordinate's low limb, the
 * distance in bytes from the low limbs to the high ones, the address of the n float32 values; n a
 * multiple of 4 (the caller folds the rest itself). Memory is imported as env.mem.
 */

const f64x2 = (x: number) => {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setFloat64(0, x, true);
  v.setFloat64(8, x, true);
  return [...b];
};

const SIMD = 0xfd;
const op = {
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32LtU: 0x49,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  void: 0x40,
  if: 0x04,
  else: 0x05,
  v128: 0x7b,
} as const;
const v128Const = (bytes: number[]) => [SIMD, 0x0c, ...bytes];
const sleb = (n: number) => {
  // Signed LEB128, for i32.const (small positive values here).
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const f64x2Splat = [SIMD, 0x14];
const f64x2PromoteLow = [SIMD, 0x5f];
const f64x2Add = [SIMD, 0xf0, 0x01];
const f64x2Sub = [SIMD, 0xf1, 0x01];
const f64x2Mul = [SIMD, 0xf2, 0x01];
const f64x2Nearest = [SIMD, 0x94, 0x01];
const f64x2Abs = [SIMD, 0xec, 0x01];
const f64x2Gt = [SIMD, 0x4a];
const v128AnyTrue = [SIMD, 0x53];

// Parameters 0 acc, 1 delta (hi − acc, bytes), 2 src, 3 n, 4 m; v128 locals 5 m×2, 6 2^-32×2,
// 7 2^32×2, 8 2^47×2, 9 p, 10 h; i32 local 11 address of hi.
const [ACC, DELTA, SRC, N, M, MV, INV, LIMB, LIM, P, H, T] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const get = (i: number) => [op.localGet, i];
const set = (i: number) => [op.localSet, i];
const bump = (local: number, by: number, sub = false) => [...get(local), op.i32Const, ...sleb(by), sub ? op.i32Sub : op.i32Add, ...set(local)];
const load = (offset: number) => [SIMD, 0x00, 3, ...leb(offset)];
const store = (offset: number) => [SIMD, 0x0b, 3, ...leb(offset)];

/**
 * Coordinates 2k and 2k + 1. Where both |p| < 2^47 (all but huge weighted values), acc += nearest(p)
 * alone; otherwise p is split, hi += nearest(p·2^-32), acc += nearest(p − h·2^32). Either way acc and
 * hi together gain exactly nearest(p).
 */
const pair = (k: number) => [
  ...get(SRC), SIMD, 0x5d, 2, ...leb(8 * k), ...f64x2PromoteLow, ...get(MV), ...f64x2Mul, op.localTee, P,
  ...f64x2Abs, ...get(LIM), ...f64x2Gt, ...v128AnyTrue,
  op.if, op.void,
  ...get(P), ...get(INV), ...f64x2Mul, ...f64x2Nearest, ...set(H),
  ...get(ACC), ...get(DELTA), op.i32Add, op.localTee, T, ...get(T), ...load(16 * k), ...get(H), ...f64x2Add, ...store(16 * k),
  ...get(ACC), ...get(ACC), ...load(16 * k), ...get(P), ...get(H), ...get(LIMB), ...f64x2Mul, ...f64x2Sub, ...f64x2Nearest, ...f64x2Add, ...store(16 * k),
  op.else,
  ...get(ACC), ...get(ACC), ...load(16 * k), ...get(P), ...f64x2Nearest, ...f64x2Add, ...store(16 * k),
  op.end,
];

/**
 * `pairs` pairs of coordinates a turn of the loop while at least that many coordinates are left:
 * the loop both kernels share (src advances 8 bytes a pair, acc 16, n by 2).
 */
const foldLoop = (pairs: number, pairAt: (k: number) => number[]) => [
  op.block, op.void,
  op.loop, op.void,
  ...get(N), op.i32Const, 2 * pairs, op.i32LtU, op.brIf, 1,
  ...Array.from({ length: pairs }, (_, k) => pairAt(k)).flat(),
  ...bump(SRC, 8 * pairs), ...bump(ACC, 16 * pairs), ...bump(N, 2 * pairs, true),
  op.br, 0,
  op.end,
  op.end,
];

const body = [
  2, 6, op.v128, 1, 0x7f, // six v128 locals, one i32
  ...get(M), ...f64x2Splat, ...set(MV),
  ...v128Const(f64x2(2 ** -32)), ...set(INV),
  ...v128Const(f64x2(2 ** 32)), ...set(LIMB),
  ...v128Const(f64x2(2 ** 47)), ...set(LIM),
  ...foldLoop(2, pair),
  op.end,
];

const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
const name = (s: string) => [s.length, ...[...s].map((c) => c.charCodeAt(0))];

/**
 * The same fold where the caller knows every |p| < 2^47 (the update's norm bounds its values): no
 * test, no split, eight coordinates a turn of the loop.
 */
const fastPair = (k: number) => [
  ...get(ACC), ...get(ACC), ...load(16 * k),
  ...get(SRC), SIMD, 0x5d, 2, ...leb(8 * k), ...f64x2PromoteLow, ...get(MV), ...f64x2Mul, ...f64x2Nearest,
  ...f64x2Add, ...store(16 * k),
];
const fastBody = [
  1, 1, op.v128, // one v128 local (5: m×2); locals 6… unused
  ...get(M), ...f64x2Splat, ...set(MV),
  ...foldLoop(4, fastPair),
  op.end,
];

const bytes = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [1, 0x60, 5, 0x7f, 0x7f, 0x7f, 0x7f, 0x7c, 0]),
  ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 0x00]),
  ...section(3, [2, 0, 0]),
  ...section(7, [2, ...name('add'), 0x00, 0, ...name('addFast'), 0x00, 1]),
  ...section(10, [2, ...leb(body.length), ...body, ...leb(fastBody.length), ...fastBody]),
]);

export type FoldKernel = (acc: number, delta: number, src: number, n: number, m: number) => void;
export interface FoldKernels {
  /** n a multiple of 4. */
  add: FoldKernel;
  /** Only where every |value·m| < 2^47; n a multiple of 8. */
  addFast: FoldKernel;
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is not available. */
export function foldKernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = typeof WebAssembly !== 'undefined' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** The kernels bound to `memory`, or null without SIMD. */
export function foldKernel(memory: WebAssembly.Memory): FoldKernels | null {
  const module = foldKernelModule();
  if (!module) return null;
  const instance = new WebAssembly.Instance(module, { env: { mem: memory } });
  return { add: instance.exports.add as FoldKernel, addFast: instance.exports.addFast as FoldKernel };
}
