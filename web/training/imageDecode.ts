import { sniffImageType } from '../../shared/data/images/labels';
import { scanPixels } from '../../shared/data/images/pixels';

/**
 * Decodes one PNG or JPEG file in the worker: the browser's decoder (`createImageBitmap`, which
 * honours EXIF orientation) and an `OffscreenCanvas` to read its pixels, then gray and resized by
 * the pure maths in shared/data/images, so the stored bytes do not depend on a browser's scaler.
 */

/** Larger images are refused rather than risk the worker's memory: 40 megapixels is a 160 MB RGBA buffer. */
export const MAX_SOURCE_PIXELS = 40_000_000;

export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

export interface DecodedScan {
  /** `height × width` gray levels, 0–255, at the requested size. */
  pixels: Uint8Array;
  sourceWidth: number;
  sourceHeight: number;
}

let canvas: OffscreenCanvas | null = null;
let context: OffscreenCanvasRenderingContext2D | null = null;

function contextFor(width: number, height: number): OffscreenCanvasRenderingContext2D {
  if (!canvas || !context) {
    canvas = new OffscreenCanvas(width, height);
    context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('This browser cannot draw images off the page (no OffscreenCanvas 2D context).');
  } else if (canvas.width !== width || canvas.height !== height) {
    // Resizing also clears it.
    canvas.width = width;
    canvas.height = height;
  } else context.clearRect(0, 0, width, height);
  return context;
}

/** Starts decoding; the bitmap comes from the browser's decoder threads, so several can be in flight. */
export async function openImage(file: Blob): Promise<ImageBitmap> {
  if (file.size === 0) throw new ImageDecodeError('the file is empty');
  const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
  const type = sniffImageType(head);
  if (!type) throw new ImageDecodeError('not a PNG or JPEG image (the file does not start like one)');
  try {
    return await createImageBitmap(file, { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'default' });
  } catch {
    throw new ImageDecodeError(`the ${type === 'png' ? 'PNG' : 'JPEG'} data could not be decoded (the file is damaged or truncated)`);
  }
}

/** The bitmap's pixels as the template stores them; closes the bitmap. */
export function readScan(bitmap: ImageBitmap, width: number, height: number): DecodedScan {
  try {
    const w = bitmap.width;
    const h = bitmap.height;
    if (w === 0 || h === 0) throw new ImageDecodeError('the image has no pixels');
    if (w * h > MAX_SOURCE_PIXELS) throw new ImageDecodeError(`${w}×${h} pixels is more than the ${MAX_SOURCE_PIXELS / 1e6}-megapixel limit`);
    const ctx = contextFor(w, h);
    ctx.drawImage(bitmap, 0, 0);
    const { data } = ctx.getImageData(0, 0, w, h);
    return { pixels: scanPixels(data, w, h, width, height), sourceWidth: w, sourceHeight: h };
  } finally {
    bitmap.close();
  }
}

/** Frees the canvas once an import is over: a large source image left it large. */
export function releaseCanvas(): void {
  canvas = null;
  context = null;
}
