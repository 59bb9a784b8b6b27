import { describe, expect, it } from 'vitest';
import { automaticNeighbours, CommunicationGraph, effectiveNeighbours, neighbourhoodThreshold, roundGraph } from './graph';

const SEED = '0123456789abcdef0123456789abcdef';
const graphOf = (n: number, k: number, seed = SEED) => new CommunicationGraph(n, { seed, neighbours: effectiveNeighbours(n, k)!, threshold: neighbourhoodThreshold(effectiveNeighbours(n, k)!) });

/** Every edge, as "u-v" with u < v. */
function edges(g: CommunicationGraph): Set<string> {
  const out = new Set<string>();
  for (let u = 0; u < g.sampled; u++) for (const v of g.neighboursOf(u)) out.add(`${Math.min(u, v)}-${Math.max(u, v)}`);
  return out;
}

describe('the sparse communication graph', () => {
  // Even k; odd k with n even (the opposite site joins in); odd k with n odd (k + 1 instead); the sizes the tests and simulator use.
  for (const [n, k] of [
    [7, 4],
    [12, 4],
    [12, 3],
    [13, 3],
    [9, 2],
    [65, automaticNeighbours(65)],
    [1000, automaticNeighbours(1000)],
  ])
    it(`over ${n} sites with k = ${k}: symmetric, no self loop, every degree ${effectiveNeighbours(n, k)}, connected`, () => {
      const g = graphOf(n, k);
      const degree = effectiveNeighbours(n, k)!;
      expect(degree % 2 === 0 || n % 2 === 0).toBe(true);
      const lists = Array.from({ length: n }, (_, u) => g.neighboursOf(u));
      const wrong: string[] = [];
      for (const [u, mine] of lists.entries()) {
        if (mine.length !== degree || new Set(mine).size !== degree) wrong.push(`${u} has ${new Set(mine).size} distinct neighbours`);
        if (mine.includes(u) || g.adjacent(u, u)) wrong.push(`${u} is its own neighbour`);
        for (const v of mine) if (!lists[v].includes(u) || !g.adjacent(u, v) || !g.adjacent(v, u)) wrong.push(`${u}-${v} is one-way`);
      }
      expect(wrong).toEqual([]);
      expect(edges(g).size).toBe((n * degree) / 2);
      if (n <= 65) for (let u = 0; u < n; u++) for (let v = 0; v < n; v++) if (g.adjacent(u, v) !== lists[u].includes(v)) wrong.push(`adjacent(${u}, ${v})`);
      expect(wrong).toEqual([]);
      expect(g.connected(Array.from({ length: n }, (_, i) => i))).toBe(true);
    });

  it('odd k with odd n uses k + 1, and k ≥ n − 1 is the complete graph', () => {
    expect(effectiveNeighbours(13, 3)).toBe(4);
    expect(effectiveNeighbours(12, 3)).toBe(3);
    expect(effectiveNeighbours(7, 6)).toBeNull();
    expect(effectiveNeighbours(7, 9)).toBeNull();
    expect(() => effectiveNeighbours(7, 1)).toThrow(/at least 2 neighbours/);
    expect(() => new CommunicationGraph(13, { seed: SEED, neighbours: 3, threshold: 3 })).toThrow(/cannot each have exactly 3 neighbours/);
  });

  it('is the same graph wherever it is built from one seed, another graph from another seed', () => {
    const a = graphOf(40, 6);
    const b = graphOf(40, 6);
    const c = graphOf(40, 6, 'fedcba9876543210fedcba9876543210');
    expect([...edges(a)]).toEqual([...edges(b)]);
    expect([...edges(a)]).not.toEqual([...edges(c)]);
    // The labelling is shuffled: not the plain circulant where 0's neighbours are 1, 2, n − 1, n − 2.
    const plain = [1, 2, 38, 39];
    const seeds = Array.from({ length: 8 }, (_, i) => i.toString(16).padStart(32, '7'));
    expect(seeds.some((s) => graphOf(40, 4, s).neighboursOf(0).join() !== plain.join())).toBe(true);
  });

  it('stays connected with fewer than k sites gone (Harary graphs are k-connected)', () => {
    for (const [n, k] of [
      [7, 4],
      [12, 4],
      [30, 6],
    ]) {
      const g = graphOf(n, k);
      for (let trial = 0; trial < 50; trial++) {
        const gone = new Set<number>();
        while (gone.size < k - 1) gone.add(Math.floor(Math.random() * n));
        expect(g.connected(Array.from({ length: n }, (_, i) => i).filter((i) => !gone.has(i)))).toBe(true);
      }
    }
    // k gone can split it: both neighbours of a site on a cycle (k = 2).
    const cycle = graphOf(9, 2);
    const [a, b] = cycle.neighboursOf(0);
    expect(cycle.connected(Array.from({ length: 9 }, (_, i) => i).filter((i) => i !== a && i !== b))).toBe(false);
  });

  it('picks k automatically: the complete graph up to 64 sites, then the least even number ≥ 6·log2(n)', () => {
    expect(automaticNeighbours(5)).toBe(4);
    expect(automaticNeighbours(64)).toBe(63);
    expect(automaticNeighbours(65)).toBe(38);
    expect(automaticNeighbours(1000)).toBe(60);
    expect(automaticNeighbours(10_000)).toBe(80);
    expect(automaticNeighbours(65_535)).toBe(96);
    expect(roundGraph(64, null)).toBeNull();
    expect(roundGraph(7, 6)).toBeNull();
    const g = roundGraph(500, null)!;
    expect(g).toMatchObject({ neighbours: 54, threshold: 28 });
    expect(g.seed).toMatch(/^[0-9a-f]{32}$/);
    expect(roundGraph(500, null)!.seed).not.toBe(g.seed);
    expect(roundGraph(7, 4)).toMatchObject({ neighbours: 4, threshold: 3 });
    expect(roundGraph(13, 3)).toMatchObject({ neighbours: 4, threshold: 3 });
  });

  it('sets the neighbourhood threshold at a strict majority of the k + 1 sites', () => {
    for (const k of [2, 3, 4, 5, 38, 60]) {
      const t = neighbourhoodThreshold(k);
      expect(t).toBeGreaterThan((k + 1) / 2);
      expect(t - 1).toBeLessThanOrEqual((k + 1) / 2);
    }
  });
});
