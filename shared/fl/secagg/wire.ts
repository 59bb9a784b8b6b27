import { crc32 } from '../../weights/crc32';
import type { Share } from './shamir';

/** Bytes as base64 (Socket.IO messages), and back. */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A share's words as base64 (big-endian u16). */
export function shareWords(share: Share): string {
  const out = new Uint8Array(2 * share.y.length);
  share.y.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return toBase64(out);
}

export function wordsShare(x: number, b64: string): Share {
  const bytes = fromBase64(b64);
  if (bytes.length % 2) throw new RangeError('a share is whole 16-bit words');
  const y = new Uint16Array(bytes.length / 2);
  for (let i = 0; i < y.length; i++) y[i] = (bytes[2 * i] << 8) | bytes[2 * i + 1];
  return { x, y };
}

/**
 * A masked input on the wire: "CNSM" | u8 version 1 | u8 ring bits | u16 index | u32 words |
 * words (little-endian u32) | crc32 of all before it.
 */
const MAGIC = [0x43, 0x4e, 0x53, 0x4d];

export function encodeMasked(index: number, bits: 32 | 64, words: Uint32Array): Uint8Array {
  const out = new Uint8Array(12 + 4 * words.length + 4);
  const view = new DataView(out.buffer);
  out.set(MAGIC);
  view.setUint8(4, 1);
  view.setUint8(5, bits);
  view.setUint16(6, index, true);
  view.setUint32(8, words.length, true);
  for (let i = 0; i < words.length; i++) view.setUint32(12 + 4 * i, words[i], true);
  view.setUint32(12 + 4 * words.length, crc32(out.subarray(0, 12 + 4 * words.length)), true);
  return out;
}

export function decodeMasked(bytes: Uint8Array): { index: number; bits: 32 | 64; words: Uint32Array } {
  if (bytes.length < 16 || MAGIC.some((m, i) => bytes[i] !== m)) throw new RangeError('not a masked input (no CNSM header)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint8(4) !== 1) throw new RangeError(`masked input format ${view.getUint8(4)} is unknown`);
  const bits = view.getUint8(5);
  if (bits !== 32 && bits !== 64) throw new RangeError(`a ring of ${bits} bits is unknown`);
  const n = view.getUint32(8, true);
  if (bytes.length !== 16 + 4 * n) throw new RangeError(`a masked input of ${n} words is ${16 + 4 * n} bytes, got ${bytes.length}`);
  if (crc32(bytes.subarray(0, 12 + 4 * n)) !== view.getUint32(12 + 4 * n, true)) throw new RangeError('the masked input is corrupt (CRC mismatch)');
  const words = new Uint32Array(n);
  for (let i = 0; i < n; i++) words[i] = view.getUint32(12 + 4 * i, true);
  return { index: view.getUint16(6, true), bits, words };
}
