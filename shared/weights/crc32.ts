/**
 * CRC-32 (IEEE 802.3), the checksum zip and PNG use, by slicing-by-8: eight table look-ups per
 * eight bytes instead of one per byte, about three times faster. It runs over every model and
 * update the server stores or aggregates (40 MB for a 10 M-parameter update).
 */
const TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  // Table k: the CRC of byte n followed by k zero bytes.
  for (let k = 1; k < 8; k++) for (let n = 0; n < 256; n++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  return t;
})();

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** CRC-32 of `bytes`; pass the CRC of what came before as `previous` to continue it over pieces. */
export function crc32(bytes: Uint8Array, previous = 0): number {
  const T = TABLES;
  let c = (previous ^ 0xffffffff) >>> 0;
  let i = 0;
  const n = bytes.length;
  if (littleEndian) {
    // Byte by byte up to a 4-byte boundary, then two little-endian words at a time.
    const head = Math.min(n, (4 - (bytes.byteOffset & 3)) & 3);
    for (; i < head; i++) c = T[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
    const pairs = (n - i) >>> 3;
    if (pairs > 0) {
      const w = new Uint32Array(bytes.buffer, bytes.byteOffset + i, pairs * 2);
      for (let j = 0; j < w.length; j += 2) {
        const a = w[j] ^ c;
        const b = w[j + 1];
        c =
          T[1792 + (a & 0xff)] ^
          T[1536 + ((a >>> 8) & 0xff)] ^
          T[1280 + ((a >>> 16) & 0xff)] ^
          T[1024 + (a >>> 24)] ^
          T[768 + (b & 0xff)] ^
          T[512 + ((b >>> 8) & 0xff)] ^
          T[256 + ((b >>> 16) & 0xff)] ^
          T[b >>> 24];
      }
      i += pairs * 8;
    }
  }
  for (; i < n; i++) c = T[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
