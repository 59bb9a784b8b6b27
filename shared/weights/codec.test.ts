import { describe, expect, it } from 'vitest';
import { CodecError, decodeWeights, encodeWeights } from './codec';

const sample = () => ({
  kind: 'update' as const,
  meta: { studyId: 'demo', round: 3, baseVersion: 2, numSamples: 120, backend: 'cpu' },
  tensors: [
    { shape: [3, 2], data: Float32Array.from([1, -2, 3.5, 0, -0, 1e-30]) },
    { shape: [2], data: Float32Array.from([Math.PI, -Math.E]) },
    { shape: [], data: Float32Array.from([42]) },
  ],
});

describe('weight codec', () => {
  it('round-trips shapes, values (bit for bit) and metadata', () => {
    const p = sample();
    const out = decodeWeights(encodeWeights(p));
    expect(out.kind).toBe('update');
    expect(out.meta).toEqual(p.meta);
    expect(out.tensors.map((t) => t.shape)).toEqual(p.tensors.map((t) => t.shape));
    out.tensors.forEach((t, i) => {
      expect(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)).toEqual(new Uint8Array(p.tensors[i].data.buffer));
    });
  });

  it('reads the data in place where it is aligned, and copies it where asked or where it is not', () => {
    const p = sample();
    const bytes = encodeWeights(p);
    const values = (out: ReturnType<typeof decodeWeights>) => out.tensors.map((t) => Array.from(t.data));
    const inPlace = decodeWeights(bytes);
    expect(inPlace.tensors.every((t) => t.data.buffer === bytes.buffer)).toBe(true);
    const copied = decodeWeights(bytes, { copy: true });
    expect(copied.tensors.every((t) => t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength)).toBe(true);
    // The same body one byte into a larger buffer, as a database driver may hand it over.
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const unaligned = decodeWeights(shifted.subarray(1));
    expect(unaligned.tensors.every((t) => t.data.buffer !== shifted.buffer)).toBe(true);
    for (const out of [inPlace, copied, unaligned]) expect(values(out)).toEqual(p.tensors.map((t) => Array.from(t.data)));
  });

  it('round-trips a model with no metadata and an empty tensor', () => {
    const bytes = encodeWeights({ kind: 'model', meta: {}, tensors: [{ shape: [0, 4], data: new Float32Array(0) }] });
    const out = decodeWeights(bytes.buffer);
    expect(out.kind).toBe('model');
    expect(out.tensors[0].shape).toEqual([0, 4]);
  });

  it('keeps NaN and infinities so the server can refuse them with a reason', () => {
    const out = decodeWeights(encodeWeights({ kind: 'update', meta: {}, tensors: [{ shape: [2], data: Float32Array.from([NaN, Infinity]) }] }));
    expect(Number.isNaN(out.tensors[0].data[0])).toBe(true);
    expect(out.tensors[0].data[1]).toBe(Infinity);
  });

  it('refuses a flipped bit anywhere', () => {
    const bytes = encodeWeights(sample());
    for (const pos of [0, 5, 14, bytes.length - 20, bytes.length - 1]) {
      const bad = bytes.slice();
      bad[pos] ^= 0x10;
      expect(() => decodeWeights(bad)).toThrow(CodecError);
    }
  });

  it('refuses truncated bodies, empty bodies and foreign data with a reason', () => {
    const bytes = encodeWeights(sample());
    expect(() => decodeWeights(bytes.subarray(0, bytes.length - 7))).toThrow(/checksum|short/);
    expect(() => decodeWeights(new Uint8Array(0))).toThrow(/too short/);
    expect(() => decodeWeights(new TextEncoder().encode('{"weights":[1,2,3]} plus padding'))).toThrow(/magic/);
  });

  it('refuses a tensor whose shape does not match its data on encode', () => {
    expect(() => encodeWeights({ kind: 'model', meta: {}, tensors: [{ shape: [2, 2], data: new Float32Array(3) }] })).toThrow(
      /shape/,
    );
  });
});
