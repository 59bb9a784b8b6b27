import { describe, expect, it } from 'vitest';
import { agreedSeed, expandMask, generateAgreementKeys, importPrivateScalar, importPublicKey, maskInput } from './masks';
import { decodeFixed, encodeFixed, ringAdd, ringSub, type RingBits } from './ring';
import { combine, split } from './shamir';

describe('secure aggregation’s masks', () => {
  it('agree one seed per pair by ECDH, bound to its context', async () => {
    const [a, b] = [await generateAgreementKeys(), await generateAgreementKeys()];
    const ab = await agreedSeed(a.privateKey, await importPublicKey(b.publicRaw), 'study/round-1/0-1');
    const ba = await agreedSeed(b.privateKey, await importPublicKey(a.publicRaw), 'study/round-1/0-1');
    expect(ab).toEqual(ba);
    expect(await agreedSeed(a.privateKey, b.publicKey, 'study/round-2/0-1')).not.toEqual(ab);
  });

  it('rebuild a dropped site’s pairwise seed from t shares of its private scalar', async () => {
    const [gone, peer] = [await generateAgreementKeys(), await generateAgreementKeys()];
    const shares = split(gone.privateScalar, 5, 3);
    const rebuilt = await importPrivateScalar(combine([shares[4], shares[0], shares[2]], 32), gone.publicRaw);
    const seed = await agreedSeed(peer.privateKey, gone.publicKey, 'ctx');
    expect(await agreedSeed(rebuilt, await importPublicKey(peer.publicRaw), 'ctx')).toEqual(seed);
  });

  it('expand a seed into the same uniform words every time', async () => {
    const seed = new Uint8Array(32).fill(9);
    const m = await expandMask(seed, 100_000);
    expect(await expandMask(seed, 100_000)).toEqual(m);
    const mean = m.reduce((s, w) => s + w / 2 ** 32, 0) / m.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(6 * Math.sqrt(1 / 12 / m.length));
    await expect(expandMask(new Uint8Array(16), 4)).rejects.toThrow(/32 bytes/);
  });

  for (const bits of [32, 64] as RingBits[]) {
    it(`cancel in the sum of all sites (2^${bits}): the server, removing the self masks, gets exactly the plaintext sum`, async () => {
      const n = 4;
      const keys = await Promise.all(Array.from({ length: n }, generateAgreementKeys));
      const selfSeeds = keys.map(() => crypto.getRandomValues(new Uint8Array(32)));
      const values = Array.from({ length: n }, (_, k) => Float32Array.from({ length: 50 }, (_, i) => Math.sin(k + i)));
      const inputs = values.map((v) => encodeFixed(v, 1, 16, bits));
      const masked: Uint32Array[] = [];
      for (let u = 0; u < n; u++) {
        const pairs = [];
        for (let v = 0; v < n; v++) if (v !== u) pairs.push({ peer: v, seed: await agreedSeed(keys[u].privateKey, keys[v].publicKey, `r1/${Math.min(u, v)}-${Math.max(u, v)}`) });
        masked.push(await maskInput(inputs[u], u, selfSeeds[u], pairs, bits));
      }
      // One masked input alone is uniform noise, not the update.
      expect(decodeFixed(masked[0], 16, bits)[0]).not.toBeCloseTo(values[0][0], 2);
      const sum = new Uint32Array(masked[0].length);
      for (const m of masked) ringAdd(sum, m, bits);
      for (const s of selfSeeds) ringSub(sum, await expandMask(s, sum.length), bits);
      const plain = new Uint32Array(sum.length);
      for (const x of inputs) ringAdd(plain, x, bits);
      expect([...sum]).toEqual([...plain]);
    });
  }
});
