import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32';

/** The textbook one-byte-at-a-time CRC-32. */
function reference(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32', () => {
  it('gives the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('matches the one-byte loop at every alignment and length', () => {
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 2654435761) >>> 23);
    for (let start = 0; start < 9; start++)
      for (const length of [0, 1, 3, 7, 8, 9, 15, 16, 17, 64, 251]) {
        const view = data.subarray(start, start + length);
        expect(crc32(view)).toBe(reference(view));
      }
  });
});
