import { describe, expect, it } from 'vitest';
import { checkUpdate, type RoundExpectation } from './checks';

const round: RoundExpectation = {
  baseVersion: 4,
  sampled: ['h1', 'h2'],
  expected: [
    { name: 'dense_0/kernel', shape: [2, 3] },
    { name: 'dense_0/bias', shape: [3] },
  ],
  normBound: 10,
};
const good = () => ({
  participantId: 'h1',
  baseVersion: 4,
  tensors: [
    { shape: [2, 3], data: Float32Array.from([1, 0, 0, 0, 0, 0]) },
    { shape: [3], data: Float32Array.from([0, 2, 2]) },
  ],
});

describe('update checks', () => {
  it('accepts a well-formed update and returns its norm', () => {
    expect(checkUpdate(round, good())).toEqual({ ok: true, norm: 3 });
  });

  it('refuses a sender that was not sampled', () => {
    expect(checkUpdate(round, { ...good(), participantId: 'h3' })).toMatchObject({ ok: false, code: 'not_sampled', reason: expect.stringContaining('h3') });
  });

  it('refuses a wrong base version', () => {
    expect(checkUpdate(round, { ...good(), baseVersion: 3 })).toMatchObject({
      ok: false,
      code: 'wrong_base_version',
      reason: expect.stringMatching(/version 3.*version 4/),
    });
  });

  it('refuses a wrong tensor count, shape or length', () => {
    const u = good();
    expect(checkUpdate(round, { ...u, tensors: u.tensors.slice(0, 1) })).toMatchObject({ code: 'update_shape_mismatch', reason: 'expected 2 tensors, got 1' });
    const transposed = { ...u, tensors: [{ shape: [3, 2], data: u.tensors[0].data }, u.tensors[1]] };
    expect(checkUpdate(round, transposed)).toMatchObject({ code: 'update_shape_mismatch', reason: expect.stringContaining('dense_0/kernel') });
    const lying = { ...u, tensors: [u.tensors[0], { shape: [3], data: new Float32Array(4) }] };
    expect(checkUpdate(round, lying)).toMatchObject({ code: 'update_shape_mismatch' });
    const bare = { ...u, tensors: [new Float32Array(6), new Float32Array(2)] };
    expect(checkUpdate(round, bare)).toMatchObject({ code: 'update_shape_mismatch', reason: expect.stringContaining('holds 2 values, expected 3') });
  });

  it('checks plain lengths when the round gives lengths and the update bare arrays', () => {
    const flat = { ...round, expected: [6, 3] };
    expect(checkUpdate(flat, { ...good(), tensors: [new Float32Array(6), Float32Array.from([0, 3, 4])] })).toEqual({ ok: true, norm: 5 });
  });

  it('refuses NaN and ±Infinity, saying where', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const u = good();
      u.tensors[1].data[2] = bad;
      expect(checkUpdate(round, u)).toEqual({
        ok: false,
        code: 'update_not_finite',
        reason: `tensor 1 (dense_0/bias) holds a non-finite value (${bad}) at index 2`,
        at: { tensor: 1, index: 2, flatIndex: 8 },
      });
    }
  });

  it('refuses an update above the study’s norm bound, and has none when the bound is null', () => {
    const u = good();
    u.tensors[0].data[0] = 11;
    expect(checkUpdate(round, u)).toMatchObject({ ok: false, code: 'update_norm_exceeded', reason: expect.stringContaining('exceeds the study’s bound 10') });
    expect(checkUpdate({ ...round, normBound: null }, u)).toMatchObject({ ok: true });
    u.tensors[0].data[0] = 6; // 6² + 8² = 10²: exactly on the bound, accepted
    u.tensors[1].data.set([0, 8, 0]);
    expect(checkUpdate(round, u).ok).toBe(true);
  });

  it('reports the first problem in a fixed order: sender, version, shape, values, norm', () => {
    const u = { ...good(), participantId: 'h9', baseVersion: 1, tensors: [] };
    expect(checkUpdate(round, u)).toMatchObject({ code: 'not_sampled' });
    expect(checkUpdate(round, { ...u, participantId: 'h2' })).toMatchObject({ code: 'wrong_base_version' });
  });
});
