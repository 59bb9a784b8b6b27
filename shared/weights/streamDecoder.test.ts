import { describe, expect, it } from 'vitest';
import { CodecError, decodeWeights, encodeWeights } from './codec';
import { WeightStreamDecoder } from './streamDecoder';

function payload() {
  const tensors = [
    { shape: [3, 5], data: Float32Array.from({ length: 15 }, (_, i) => Math.sin(i) * 0.1) },
    { shape: [7], data: Float32Array.from({ length: 7 }, (_, i) => i - 3.5) },
  ];
  return encodeWeights({ kind: 'update', meta: { studyId: 's', round: 1, note: 'é' }, tensors });
}

/** Feeds `bytes` in pieces of `size` and gathers the values it hands over. */
function stream(bytes: Uint8Array, size: number) {
  const values: number[] = [];
  const d = new WeightStreamDecoder({ onValues: (off, v) => {
    expect(off).toBe(values.length);
    values.push(...v);
  } });
  for (let i = 0; i < bytes.length; i += size) d.push(bytes.subarray(i, i + size));
  return { layout: d.end(), values };
}

describe('WeightStreamDecoder', () => {
  it('decodes what decodeWeights decodes, whatever the piece sizes', () => {
    const bytes = payload();
    const whole = decodeWeights(bytes);
    for (const size of [1, 2, 3, 5, 13, 64, bytes.length]) {
      const { layout, values } = stream(bytes, size);
      expect(layout.meta).toEqual(whole.meta);
      expect(layout.shapes).toEqual(whole.tensors.map((t) => t.shape));
      expect(layout.totalBytes).toBe(bytes.length);
      expect(Float32Array.from(values)).toEqual(Float32Array.from(whole.tensors.flatMap((t) => [...t.data])));
      // Value k sits at dataOffset + 4k of the body.
      expect(new Float32Array(bytes.slice(layout.dataOffset, layout.dataOffset + 4 * layout.totalValues).buffer)).toEqual(Float32Array.from(values));
    }
  });

  it('refuses a corrupt, truncated or overlong body as decodeWeights does', () => {
    const bytes = payload();
    const corrupt = bytes.slice();
    corrupt[bytes.length - 10] ^= 1;
    expect(() => stream(corrupt, 7)).toThrow(/checksum mismatch/);
    expect(() => stream(bytes.subarray(0, bytes.length - 3), 7)).toThrow(CodecError);
    expect(() => stream(bytes.subarray(0, 10), 7)).toThrow(/too short/);
    const longer = new Uint8Array(bytes.length + 4);
    longer.set(bytes);
    expect(() => stream(longer, 7)).toThrow(/data length mismatch/);
    const bad = bytes.slice();
    bad[0] = 0;
    expect(() => stream(bad, 7)).toThrow(/bad magic/);
  });
});
