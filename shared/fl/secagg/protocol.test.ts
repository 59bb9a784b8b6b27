import { describe, expect, it } from 'vitest';
import { combine } from './shamir';
import { expandMask } from './masks';
import { decodeFixed, encodeFixed, ringAdd, ringSub } from './ring';
import { minimumThreshold, secAggParams, SecAggAbort, SecAggClient, unmaskSum, type Advertised, type SealedShares, type SecAggParams, type UnmaskResponse } from './protocol';

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

describe('secure aggregation over a sparse graph (SecAgg+), 12 sites, 4 neighbours each', () => {
  const M = 12;
  const sparse = secAggParams({ context: 'secagg-test/round-2', threshold: minimumThreshold(M), bits: 64, sampled: M, graph: { seed: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', neighbours: 4, threshold: 3 } });
  const graph = sparse.graph!;
  const xs = Array.from({ length: M }, (_, k) => encodeFixed(Float32Array.from({ length: 200 }, (_, i) => Math.cos(5 * k + i) * (k + 1)), 1, FRACTION, sparse.bits));
  const sumOf = (sites: readonly number[]) => {
    const sum = new Uint32Array(xs[0].length);
    for (const k of sites) ringAdd(sum, xs[k], sparse.bits);
    return sum;
  };

  /** One sparse round, the server's part played here: each site gets only its neighbours' keys and shares. */
  async function sparseRound(opts: { dropBeforeMasking?: number[]; dropAfterMasking?: number[] } = {}) {
    const clients = await Promise.all(Array.from({ length: M }, (_, k) => SecAggClient.create(k, sparse)));
    const advertised = clients.map((c) => c.advertise());
    const sealed = (await Promise.all(clients.map((c) => c.shareKeys(advertised.filter((a) => a.index === c.index || graph.adjacent(c.index, a.index)))))).flat();
    const sharers = clients.map((c) => c.index);
    const masked = new Map<number, Uint32Array>();
    for (const k of sharers.filter((k) => !opts.dropBeforeMasking?.includes(k))) masked.set(k, await clients[k].maskedInput(sealed.filter((s) => s.to === k), xs[k]));
    const survivors = [...masked.keys()];
    const maskedSum = new Uint32Array(xs[0].length);
    for (const m of masked.values()) ringAdd(maskedSum, m, sparse.bits);
    const answering = survivors.filter((k) => !opts.dropAfterMasking?.includes(k));
    return { clients, advertised, sealed, sharers, survivors, maskedSum, answering, responses: () => answering.map((k) => clients[k].unmask(survivors)) };
  }

  it('shares, masks and reveals with neighbours only, and unmasks exactly the plaintext sum', async () => {
    const r = await sparseRound();
    // Each site seals shares for its 4 neighbours, not for the 11 others: the message scales with k.
    for (const k of r.sharers) expect(r.sealed.filter((s) => s.from === k).map((s) => s.to)).toEqual(graph.neighboursOf(k));
    const responses = r.responses();
    for (const resp of responses) expect(resp.selfSeeds.map((s) => s.of).sort((a, b) => a - b)).toEqual([resp.from, ...graph.neighboursOf(resp.from)].sort((a, b) => a - b));
    const sum = await unmaskSum(sparse, r.advertised, r.sharers, r.survivors, r.maskedSum, responses);
    expect([...sum]).toEqual([...sumOf(r.sharers)]);
  });

  it('leaves out a site that dropped before its masked input: its masks with its surviving neighbours are removed', async () => {
    const r = await sparseRound({ dropBeforeMasking: [5] });
    expect([...r.maskedSum]).not.toEqual([...sumOf(r.survivors)]);
    const sum = await unmaskSum(sparse, r.advertised, r.sharers, r.survivors, r.maskedSum, r.responses());
    expect([...sum]).toEqual([...sumOf(r.sharers.filter((k) => k !== 5))]);
  });

  it('keeps a site that dropped after its masked input: its self mask is rebuilt from its neighbours’ shares', async () => {
    const r = await sparseRound({ dropAfterMasking: [8] });
    const sum = await unmaskSum(sparse, r.advertised, r.sharers, r.survivors, r.maskedSum, r.responses());
    expect([...sum]).toEqual([...sumOf(r.sharers)]);
  });

  it('handles both dropouts in one neighbourhood, down to its threshold', async () => {
    const [a, b] = graph.neighboursOf(0);
    const r = await sparseRound({ dropBeforeMasking: [a], dropAfterMasking: [b] });
    const sum = await unmaskSum(sparse, r.advertised, r.sharers, r.survivors, r.maskedSum, r.responses());
    expect([...sum]).toEqual([...sumOf(r.sharers.filter((k) => k !== a))]);
  });

  it('aborts, revealing nothing, when one neighbourhood loses too many sites', async () => {
    // Three of site 0's four neighbours leave before masking: 2 of its 5-site neighbourhood are left, the threshold is 3.
    const [a, b, c] = graph.neighboursOf(0);
    const r = await sparseRound({ dropBeforeMasking: [a, b, c] });
    expect(r.survivors.length).toBeGreaterThanOrEqual(sparse.threshold);
    expect(() => r.clients[0].unmask(r.survivors)).toThrow(/2 of site 0's 5-site neighbourhood sent masked inputs; it needs 3: nothing is revealed/);
    // Two leave before masking and one after: site 0's self seed has 2 revealed shares; the server rebuilds nothing.
    const late = await sparseRound({ dropBeforeMasking: [a, b], dropAfterMasking: [c] });
    const responses = late.responses();
    await expect(unmaskSum(sparse, late.advertised, late.sharers, late.survivors, late.maskedSum, responses)).rejects.toThrow(SecAggAbort);
    await expect(unmaskSum(sparse, late.advertised, late.sharers, late.survivors, late.maskedSum, responses)).rejects.toThrow(/2 shares of site 0's self mask; 3 needed/);
  });

  it('refuses to unmask survivors that are not one connected piece of the graph (their parts’ sums would show)', async () => {
    // Four sites whose leaving splits the graph while every neighbourhood keeps its threshold.
    const all = Array.from({ length: M }, (_, i) => i);
    let cut: number[] | null = null;
    for (let a = 0; a < M && !cut; a++)
      for (let b = a + 1; b < M && !cut; b++)
        for (let c = b + 1; c < M && !cut; c++)
          for (let d = c + 1; d < M && !cut; d++) {
            const rest = all.filter((i) => ![a, b, c, d].includes(i));
            const holds = rest.every((u) => 1 + graph.neighboursOf(u).filter((v) => rest.includes(v)).length >= graph.threshold);
            if (holds && !graph.connected(rest)) cut = [a, b, c, d];
          }
    expect(cut).not.toBeNull();
    const r = await sparseRound({ dropBeforeMasking: cut! });
    const someone = r.survivors[0];
    expect(() => r.clients[someone].unmask(r.survivors)).toThrow(/not one connected piece of the round's graph/);
    await expect(unmaskSum(sparse, r.advertised, r.sharers, r.survivors, r.maskedSum, [])).rejects.toThrow(/not one connected piece/);
  });

  it('refuses keys relayed from a site that is not a neighbour, and a threshold below a neighbourhood majority', async () => {
    const clients = await Promise.all(Array.from({ length: M }, (_, k) => SecAggClient.create(k, sparse)));
    const stranger = Array.from({ length: M }, (_, i) => i).find((v) => v !== 0 && !graph.adjacent(0, v))!;
    await expect(clients[0].shareKeys(clients.map((c) => c.advertise()))).rejects.toThrow(new RegExp(`the keys of site ${stranger} were relayed to site 0, which is not its neighbour`));
    expect(() => secAggParams({ context: 'x', threshold: 7, bits: 64, sampled: M, graph: { seed: '0'.repeat(32), neighbours: 4, threshold: 2 } })).toThrow(/threshold of 2 among 5 sites is refused/);
  });
});
