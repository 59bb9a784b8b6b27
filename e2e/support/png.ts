import { deflateSync } from 'node:zlib';
import { crc32 } from '../../shared/weights/crc32';

/**
 * A minimal PNG encoder for tests: 8-bit gray, RGB or RGBA, no interlacing, every scanline unfiltered.
 * Enough to write a folder of scans on the fly instead of shipping binary fixtures.
 */

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const COLOUR_TYPE = { 1: 0, 3: 2, 4: 6 } as const;

/** `pixels`: `height × width × channels` bytes, row by row; 1 channel gray, 3 RGB, 4 RGBA. */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3 | 4 = 1): Buffer {
  if (pixels.length !== width * height * channels) throw new RangeError(`${pixels.length} bytes for ${width}×${height}×${channels}`);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = COLOUR_TYPE[channels];
  const stride = width * channels;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let r = 0; r < height; r++) raw.set(pixels.subarray(r * stride, (r + 1) * stride), r * (stride + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** The RGBA pixels a browser decodes a PNG of `pixels` to (opaque). */
export function toRgba(pixels: Uint8Array, width: number, height: number, channels: 1 | 3 | 4): Uint8ClampedArray {
  const out = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) out[4 * i + c] = pixels[i * channels + (channels === 1 ? 0 : c)];
    out[4 * i + 3] = channels === 4 ? pixels[i * 4 + 3] : 255;
  }
  return out;
}
