import { describe, expect, it } from 'vitest';
import { axisTaps, resizeGray, rgbaToGray, scanPixels, toBytes, toUnitFloats } from './pixels';

const rgba = (pixels: [number, number, number, number][]) => Uint8ClampedArray.from(pixels.flat());

describe('gray levels from RGBA', () => {
  it('weighs red, green and blue as luma does, and keeps gray as it is', () => {
    const g = rgbaToGray(rgba([[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255], [128, 128, 128, 255]]), 4, 1);
    expect(g[0]).toBeCloseTo(0.299, 6);
    expect(g[1]).toBeCloseTo(0.587, 6);
    expect(g[2]).toBeCloseTo(0.114, 6);
    expect(g[3]).toBeCloseTo(128 / 255, 6);
  });

  it('counts transparent pixels as black, half-transparent white as mid gray', () => {
    const g = rgbaToGray(rgba([[255, 255, 255, 0], [255, 255, 255, 255], [255, 255, 255, 51]]), 3, 1);
    expect(Array.from(g, (v) => +v.toFixed(6))).toEqual([0, 1, 0.2]);
  });

  it('refuses a buffer of the wrong size', () => {
    expect(() => rgbaToGray(new Uint8ClampedArray(12), 2, 2)).toThrow(/12 RGBA values for a 2×2 image/);
  });
});

describe('resizing', () => {
  it('averages the pixels each output pixel covers when shrinking by a whole factor', () => {
    // 4 × 2 → 2 × 1: each output pixel is the mean of a 2 × 2 block.
    const src = Float32Array.from([0, 0.2, 1, 1, 0.4, 0.2, 0, 0.6]);
    expect(Array.from(resizeGray(src, 4, 2, 2, 1), (v) => +v.toFixed(6))).toEqual([0.2, 0.65]);
  });

  it('gives partial pixels their share when the factor is not whole', () => {
    // 3 → 2: the middle pixel is split half and half.
    const taps = axisTaps(3, 2);
    expect(taps.map((t) => ({ start: t.start, weights: Array.from(t.weights, (w) => +w.toFixed(6)) }))).toEqual([
      { start: 0, weights: [0.666667, 0.333333] },
      { start: 1, weights: [0.333333, 0.666667] },
    ]);
    expect(Array.from(resizeGray(Float32Array.from([0, 0.3, 0.9]), 3, 1, 2, 1), (v) => +v.toFixed(6))).toEqual([0.1, 0.7]);
  });

  it('keeps every set of weights summing to one, shrinking or enlarging', () => {
    for (const [from, to] of [[512, 32], [37, 32], [32, 32], [20, 32], [1, 5], [640, 3]]) {
      for (const t of axisTaps(from, to)) {
        expect(t.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
        expect(t.start).toBeGreaterThanOrEqual(0);
        expect(t.start + t.weights.length).toBeLessThanOrEqual(from);
      }
    }
  });

  it('interpolates between pixel centres when enlarging, and holds the edges', () => {
    expect(Array.from(resizeGray(Float32Array.from([0, 1]), 2, 1, 4, 1), (v) => +v.toFixed(6))).toEqual([0, 0.25, 0.75, 1]);
  });

  it('leaves a flat image flat and an image of the right size unchanged', () => {
    const flat = new Float32Array(300 * 200).fill(0.37);
    for (const v of resizeGray(flat, 300, 200, 32, 32)) expect(v).toBeCloseTo(0.37, 6);
    const same = Float32Array.from({ length: 16 }, (_, i) => i / 16);
    expect(resizeGray(same, 4, 4, 4, 4)).toEqual(same);
  });

  it('keeps the mean brightness when shrinking', () => {
    const src = Float32Array.from({ length: 100 * 60 }, (_, i) => ((i * 7919) % 101) / 100);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(resizeGray(src, 100, 60, 20, 12))).toBeCloseTo(mean(src), 5);
  });

  it('stretches a wide image to a square: a bright left half stays the left half', () => {
    const src = Float32Array.from({ length: 64 * 16 }, (_, i) => (i % 64 < 32 ? 1 : 0));
    const out = resizeGray(src, 64, 16, 8, 8);
    for (let r = 0; r < 8; r++) expect(Array.from(out.subarray(r * 8, r * 8 + 8))).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
  });
});

describe('stored bytes', () => {
  it('rounds and clips gray levels to 8 bits and reads them back in [0, 1]', () => {
    const bytes = toBytes([-0.2, 0, 0.5, 1 / 255, 1, 1.4]);
    expect(Array.from(bytes)).toEqual([0, 0, 128, 1, 255, 255]);
    expect(Array.from(toUnitFloats(Uint8Array.of(0, 51, 255)), (v) => +v.toFixed(6))).toEqual([0, 0.2, 1]);
  });

  it('gives, in one pass, exactly the bytes of gray, then resize, then 8 bits', () => {
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    for (const [w, h, tw, th] of [[48, 40, 32, 32], [32, 32, 32, 32], [32, 20, 32, 32], [100, 32, 32, 32], [17, 9, 5, 7], [7, 3, 32, 32]]) {
      const rgba = Uint8ClampedArray.from({ length: w * h * 4 }, (_, i) => (i % 4 === 3 && i % 12 !== 3 ? 255 : next()));
      const slow = toBytes(resizeGray(rgbaToGray(rgba, w, h), w, h, tw, th));
      expect(Array.from(scanPixels(rgba, w, h, tw, th)), `${w}×${h} → ${tw}×${th}`).toEqual(Array.from(slow));
    }
  });

  it('turns an RGBA image into the template size in one call', () => {
    // 2 × 2 red, shrunk to one pixel: luma of red.
    const px = scanPixels(rgba([[255, 0, 0, 255], [255, 0, 0, 255], [255, 0, 0, 255], [255, 0, 0, 255]]), 2, 2, 1, 1);
    expect(Array.from(px)).toEqual([Math.round(0.299 * 255)]);
  });
});
