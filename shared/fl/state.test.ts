import { describe, expect, it } from 'vitest';
import { decodeServerState, encodeServerState, StateCodecError, type ServerState } from './state';

const state: ServerState = {
  strategy: 'fedyogi',
  step: 7,
  slots: {
    m: [Float32Array.from([1.5, -0, Number.MIN_VALUE, 3.4028234663852886e38]), Float32Array.from([0.1])],
    v: [Float32Array.from([1e-30, 2, 3, 4]), new Float32Array(0)],
  },
};

describe('server-state codec', () => {
  it('round-trips every bit', () => {
    const back = decodeServerState(encodeServerState(state));
    expect(back.strategy).toBe('fedyogi');
    expect(back.step).toBe(7);
    expect(Object.keys(back.slots)).toEqual(['m', 'v']);
    for (const slot of ['m', 'v']) {
      back.slots[slot].forEach((t, i) => {
        const want = state.slots[slot][i];
        expect(Buffer.from(t.buffer, t.byteOffset, t.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength))).toBe(true);
      });
    }
  });

  it('decodes from a view into a larger buffer (as a database driver may hand it)', () => {
    const bytes = encodeServerState(state);
    const padded = new Uint8Array(bytes.length + 5);
    padded.set(bytes, 3);
    expect(decodeServerState(padded.subarray(3, 3 + bytes.length)).step).toBe(7);
  });

  it('refuses corrupted, truncated or foreign bytes', () => {
    const bytes = encodeServerState(state);
    const flipped = bytes.slice();
    flipped[bytes.length - 10] ^= 1;
    expect(() => decodeServerState(flipped)).toThrow(/CRC/);
    expect(() => decodeServerState(bytes.subarray(0, bytes.length - 4))).toThrow(StateCodecError);
    expect(() => decodeServerState(new Uint8Array(16))).toThrow(/not a server-state/);
  });
});
