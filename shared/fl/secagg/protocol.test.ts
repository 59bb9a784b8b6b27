import { describe, expect, it } from 'vitest';
import { combine } from './shamir';
import { expandMask } from './masks';
import { decodeFixed, encodeFixed, ringAdd, ringSub } from './ring';
import { minimumThreshold, SecAggAbort, SecAggClient, unmaskSum, type Advertised, type SealedShares, type SecAggParams, type UnmaskResponse } from './protocol';

const N = 5;
const params: SecAggParams = { context: 'secagg-test/round-1', threshold: minimumThreshold(N), bits: 64 };
const FRACTION = 24;
const updates = Array.from({ length: N }, (_, k) => Float32Array.from({ length: 300 }, (_, i) => Math.sin(3 * k + i) * (k + 1)));
const inputs = updates.map((u) => encodeFixed(u, 1, FRACTION, params.bits));

/** The plaintext fixed-point sum of the given sites' inputs, in the ring. */
function plainSum(sites: readonly number[]): Uint32Array {
  const sum = new Uint32Array(inputs[0].length);
  for (const k of sites) ringAdd(sum, inputs[k], params.bits);
  return sum;
}

/**
 * One round among N sites, the server's part played here: `dropBeforeMasking` share keys and leave
 * before their masked input; `dropAfterMasking` send it and leave before the unmasking.
 */
async function round(opts: { dropBeforeMasking?: number[]; dropAfterMasking?: number[]; answer?: (responses: UnmaskResponse[]) => UnmaskResponse[] } = {}) {
  const clients = await Promise.all(Array.from({ length: N }, (_, k) => SecAggClient.create(k, params)));
  const advertised: Advertised[] = clients.map((c) => c.advertise());
  const sealed: SealedShares[] = (await Promise.all(clients.map((c) => c.shareKeys(advertised)))).flat();
  const sharers = clients.map((c) => c.index);
  const maskingSites = sharers.filter((k) => !opts.dropBeforeMasking?.includes(k));
  const masked = new Map<number, Uint32Array>();
  for (const k of maskingSites) masked.set(k, await clients[k].maskedInput(sealed.filter((s) => s.to === k), inputs[k]));
  const survivors = [...masked.keys()];
  const maskedSum = new Uint32Array(inputs[0].length);
  for (const m of masked.values()) ringAdd(maskedSum, m, params.bits);
  const answering = survivors.filter((k) => !opts.dropAfterMasking?.includes(k));
  const responses = (opts.answer ?? ((r) => r))(answering.map((k) => clients[k].unmask(survivors)));
  return { clients, advertised, sharers, survivors, masked, maskedSum, responses };
}

describe('secure aggregation, 5 sites, threshold 3', () => {
  it('gives the server exactly the plaintext fixed-point sum, and one masked input says nothing of its update', async () => {
    const r = await round();
    const sum = await unmaskSum(params, r.advertised, r.sharers, r.survivors, r.maskedSum, r.responses);
    expect([...sum]).toEqual([...plainSum([0, 1, 2, 3, 4])]);
    const lone = decodeFixed(r.masked.get(0)!, FRACTION, params.bits);
    const corr = lone.reduce((s, v, i) => s + Math.sign(v) * Math.sign(updates[0][i]), 0) / lone.length;
    expect(Math.abs(corr)).toBeLessThan(0.3);
  });

  it('leaves out a site that dropped before its masked input: its pairwise masks are rebuilt from the shares of its key', async () => {
    const r = await round({ dropBeforeMasking: [2] });
    expect(r.survivors).toEqual([0, 1, 3, 4]);
    // Its peers' inputs carry masks shared with it, so their sum alone is still masked.
    expect([...r.maskedSum]).not.toEqual([...plainSum(r.survivors)]);
    const sum = await unmaskSum(params, r.advertised, r.sharers, r.survivors, r.maskedSum, r.responses);
    expect([...sum]).toEqual([...plainSum([0, 1, 3, 4])]);
  });

  it('keeps a site that dropped after sending its masked input: its self mask is rebuilt from the others’ shares', async () => {
    const r = await round({ dropAfterMasking: [4] });
    expect(r.responses.map((x) => x.from)).toEqual([0, 1, 2, 3]);
    const sum = await unmaskSum(params, r.advertised, r.sharers, r.survivors, r.maskedSum, r.responses);
    expect([...sum]).toEqual([...plainSum([0, 1, 2, 3, 4])]);
  });

  it('handles both dropouts in one round, down to the threshold', async () => {
    const r = await round({ dropBeforeMasking: [0], dropAfterMasking: [1] });
    const sum = await unmaskSum(params, r.advertised, r.sharers, r.survivors, r.maskedSum, r.responses);
    expect([...sum]).toEqual([...plainSum([1, 2, 3, 4])]);
  });

  it('without one honest survivor’s shares (t − 1 answers), cannot be unmasked: refused, and forcing it gives noise', async () => {
    const r = await round({ answer: (responses) => responses.slice(0, params.threshold - 1) });
    await expect(unmaskSum(params, r.advertised, r.sharers, r.survivors, r.maskedSum, r.responses)).rejects.toThrow(SecAggAbort);
    // The server tries anyway: interpolating from the t − 1 shares it holds gives other seeds.
    const forced = r.maskedSum.slice();
    for (const u of r.survivors) {
      const shares = r.responses.flatMap((x) => x.selfSeeds.filter((s) => s.of === u).map((s) => s.share));
      ringSub(forced, await expandMask(combine(shares, 32), forced.length), params.bits);
    }
    const decoded = decodeFixed(forced, FRACTION, params.bits);
    const truth = decodeFixed(plainSum([0, 1, 2, 3, 4]), FRACTION, params.bits);
    expect(decoded.filter((v, i) => Math.abs(v - truth[i]) < 1).length).toBeLessThan(5);
  });

  it('ends the round revealing nothing when fewer than t sites sent masked inputs', async () => {
    const clients = await Promise.all(Array.from({ length: N }, (_, k) => SecAggClient.create(k, params)));
    const advertised = clients.map((c) => c.advertise());
    const sealed = (await Promise.all(clients.map((c) => c.shareKeys(advertised)))).flat();
    for (const k of [0, 1]) await clients[k].maskedInput(sealed.filter((s) => s.to === k), inputs[k]);
    expect(() => clients[0].unmask([0, 1])).toThrow(/2 masked inputs arrived; the round needs 3: nothing is revealed/);
    // A site never reveals both shares of one site: asked to unmask with a site it holds no shares of, it refuses.
    expect(() => clients[0].unmask([0, 1, 7])).toThrow(/site 7 is said to have sent a masked input, but it shared no keys/);
  });

  it('refuses shares that were tampered with or sealed for another round', async () => {
    const clients = await Promise.all(Array.from({ length: 3 }, (_, k) => SecAggClient.create(k, { ...params, threshold: 2 })));
    const advertised = clients.map((c) => c.advertise());
    const sealed = (await Promise.all(clients.map((c) => c.shareKeys(advertised)))).flat();
    const mine = sealed.filter((s) => s.to === 0);
    const tampered = mine.map((s, i) => (i === 0 ? { ...s, sealed: s.sealed.map((b, j) => (j === 20 ? b ^ 1 : b)) } : s));
    await expect(clients[0].maskedInput(tampered, inputs[0])).rejects.toThrow(/do not open: tampered, or sealed for another round/);
  });
});
