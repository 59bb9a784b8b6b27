/**
 * Pixel arithmetic for imported scans: colour to gray, resizing, and the 8-bit form they are stored
 * in. Pure and runtime neutral, so the browser worker and the tests compute the same bytes; doing it
 * here rather than with a canvas's own scaling keeps a dataset's fingerprint the same in every browser.
 */

/** ITU-R BT.601 luma weights, which most imaging libraries use to turn sRGB into gray. */
export const LUMA = [0.299, 0.587, 0.114] as const;

/**
 * Gray levels in [0, 1] from 8-bit RGBA pixels (row by row, as `ImageData` holds them). A
 * transparent pixel counts as black: a scan's transparent border is background, not tissue.
 */
export function rgbaToGray(rgba: ArrayLike<number>, width: number, height: number): Float32Array {
  const n = width * height;
  if (rgba.length !== 4 * n) throw new RangeError(`${rgba.length} RGBA values for a ${width}×${height} image`);
  const out = new Float32Array(n);
  for (let i = 0, o = 0; o < n; i += 4, o++) {
    out[o] = ((LUMA[0] * rgba[i] + LUMA[1] * rgba[i + 1] + LUMA[2] * rgba[i + 2]) * rgba[i + 3]) / (255 * 255);
  }
  return out;
}

/** One output pixel along an axis: the source pixels from `start` and their weights (summing to 1). */
interface Tap {
  start: number;
  weights: Float64Array;
}

/**
 * Weights that map `from` source pixels to `to` along one axis. Shrinking averages the source pixels
 * each output pixel covers (area averaging, with fractional coverage at its edges), so no detail is
 * skipped, as it would be by sampling; enlarging interpolates linearly between pixel centres.
 */
export function axisTaps(from: number, to: number): Tap[] {
  if (!(Number.isInteger(from) && from > 0 && Number.isInteger(to) && to > 0)) throw new RangeError(`cannot resize ${from} pixels to ${to}`);
  const taps: Tap[] = [];
  const scale = from / to;
  for (let j = 0; j < to; j++) {
    if (to <= from) {
      const lo = j * scale;
      const hi = (j + 1) * scale;
      const start = Math.floor(lo);
      const end = Math.min(from, Math.ceil(hi));
      const weights = new Float64Array(end - start);
      for (let i = start; i < end; i++) weights[i - start] = (Math.min(hi, i + 1) - Math.max(lo, i)) / scale;
      taps.push({ start, weights });
    } else {
      const centre = Math.min(from - 1, Math.max(0, (j + 0.5) * scale - 0.5));
      const i0 = Math.min(from - 1, Math.floor(centre));
      const f = centre - i0;
      taps.push(i0 + 1 < from && f > 0 ? { start: i0, weights: Float64Array.of(1 - f, f) } : { start: i0, weights: Float64Array.of(1) });
    }
  }
  return taps;
}

/**
 * A one-channel image of `width × height` resized to `toWidth × toHeight`, rows first, then columns.
 * A different aspect ratio stretches the image: every part of the scan stays in the model's view.
 */
export function resizeGray(src: Float32Array, width: number, height: number, toWidth: number, toHeight: number): Float32Array {
  if (src.length !== width * height) throw new RangeError(`${src.length} values for a ${width}×${height} image`);
  if (width === toWidth && height === toHeight) return src.slice();
  const across = axisTaps(width, toWidth);
  const down = axisTaps(height, toHeight);
  // Columns first: each source row shrinks to toWidth values, then rows combine.
  const rows = new Float64Array(height * toWidth);
  for (let r = 0; r < height; r++) {
    const base = r * width;
    for (let c = 0; c < toWidth; c++) {
      const { start, weights } = across[c];
      let s = 0;
      for (let k = 0; k < weights.length; k++) s += weights[k] * src[base + start + k];
      rows[r * toWidth + c] = s;
    }
  }
  const out = new Float32Array(toWidth * toHeight);
  for (let r = 0; r < toHeight; r++) {
    const { start, weights } = down[r];
    for (let c = 0; c < toWidth; c++) {
      let s = 0;
      for (let k = 0; k < weights.length; k++) s += weights[k] * rows[(start + k) * toWidth + c];
      out[r * toWidth + c] = s;
    }
  }
  return out;
}

/** Gray levels in [0, 1] as the 8-bit values they are stored as (rounded, clipped). */
export function toBytes(gray: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(gray.length);
  for (let i = 0; i < gray.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, gray[i])) * 255);
  return out;
}

/** Stored 8-bit pixels as the model's inputs, in [0, 1]. */
export function toUnitFloats(pixels: ArrayLike<number>, out = new Float32Array(pixels.length)): Float32Array {
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
  return out;
}

/**
 * RGBA pixels straight to the template's stored form: gray, resized, 8-bit. The same arithmetic as
 * `toBytes(resizeGray(rgbaToGray(…)))`, fused row by row, so a large scan never exists as a whole
 * gray copy: a 2048 × 2048 source costs one row of gray values and a `height × toWidth` buffer.
 */
export function scanPixels(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number, toWidth: number, toHeight: number): Uint8Array {
  if (rgba.length !== 4 * width * height) throw new RangeError(`${rgba.length} RGBA values for a ${width}×${height} image`);
  const across = axisTaps(width, toWidth);
  const down = axisTaps(height, toHeight);
  const same = width === toWidth;
  const gray = new Float32Array(width);
  const rows = new Float64Array(height * toWidth);
  const [wr, wg, wb] = LUMA;
  for (let r = 0; r < height; r++) {
    let i = 4 * r * width;
    // Stored as float32, as rgbaToGray stores it, so both paths give the same bytes.
    for (let c = 0; c < width; c++, i += 4) gray[c] = ((wr * rgba[i] + wg * rgba[i + 1] + wb * rgba[i + 2]) * rgba[i + 3]) / (255 * 255);
    const base = r * toWidth;
    if (same) {
      for (let c = 0; c < width; c++) rows[base + c] = gray[c];
      continue;
    }
    for (let c = 0; c < toWidth; c++) {
      const { start, weights } = across[c];
      let sum = 0;
      for (let k = 0; k < weights.length; k++) sum += weights[k] * gray[start + k];
      rows[base + c] = sum;
    }
  }
  const out = new Uint8Array(toWidth * toHeight);
  const identity = height === toHeight;
  for (let r = 0; r < toHeight; r++) {
    const { start, weights } = down[r];
    for (let c = 0; c < toWidth; c++) {
      let sum: number;
      if (identity) sum = rows[r * toWidth + c];
      else {
        sum = 0;
        for (let k = 0; k < weights.length; k++) sum += weights[k] * rows[(start + k) * toWidth + c];
      }
      // As resizeGray's float32 output, then toBytes.
      out[r * toWidth + c] = Math.round(Math.min(1, Math.max(0, Math.fround(sum))) * 255);
    }
  }
  return out;
}
