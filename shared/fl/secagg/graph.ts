/**
 * SecAgg+'s communication graph (Bell et al. 2020, "Secure single-server aggregation with
 * (poly)logarithmic overhead"): in a large round each sampled site shares keys with, masks against and
 * reveals shares for only its k neighbours, not every other site, so its messages and mask work grow
 * with k = O(log n) instead of n.
 *
 * The graph is a Harary graph H(k, n) with its vertices relabelled by a random permutation: place the
 * n sampled indices around a circle in the permutation's order and join each to the k/2 nearest on
 * either side (k odd, n even: also to the one opposite). That graph is k-regular and k-connected (no
 * fewer than k dropouts can split it), and the random labelling makes a neighbourhood a random set the
 * server cannot aim dropouts at once the seed is drawn. n·k odd (k and n both odd) has no k-regular
 * graph: the round uses k + 1, even, instead. Every site and the server build the same graph from the
 * round's seed (drawn by the server at random when the round opens, sent in RoundOpen).
 */

/** What a round's opening says of its graph (RoundOpen.secureAggregation.graph). */
export interface GraphSetting {
  /** 128 bits as 32 lowercase hex digits: the permutation's seed. */
  seed: string;
  /** k: each site's degree (already even, or n even). */
  neighbours: number;
  /** t: how many of a site's neighbourhood (its k neighbours and itself) reconstruct its secrets. */
  threshold: number;
}

/** Up to this many sampled sites the automatic rule keeps the complete graph (Bonawitz et al. as is). */
export const COMPLETE_GRAPH_UP_TO = 64;

/**
 * k when the study sets none: the complete graph up to 64 sampled sites (its cost is small there, and
 * its threshold the strongest), beyond it the least even number ≥ 6·log2(n), never more than n − 1:
 * 38 at n = 65, 60 at 1,000, 80 at 10,000, 96 at 65,535. Bell et al. show k = O(log n) keeps the
 * graph connected and every neighbourhood's honest majority with overwhelming probability; the factor
 * 6 keeps a neighbourhood in the tens of sites, so a round survives several dropouts in any one of them.
 */
export function automaticNeighbours(sampled: number): number {
  if (sampled <= COMPLETE_GRAPH_UP_TO) return Math.max(0, sampled - 1);
  return Math.min(sampled - 1, 2 * Math.ceil(3 * Math.log2(sampled)));
}

/**
 * The least per-neighbourhood threshold: ⌊(k + 1)/2⌋ + 1, a strict majority of the k + 1 sites that
 * hold a site's shares, so an honest-but-curious server never reconstructs a secret from a minority.
 */
export const neighbourhoodThreshold = (neighbours: number) => Math.floor((neighbours + 1) / 2) + 1;

/** The degree n sites get when k is asked for: k, or k + 1 when n·k is odd; null when that is the complete graph. */
export function effectiveNeighbours(sampled: number, neighbours: number): number | null {
  if (!Number.isInteger(neighbours) || neighbours < 2) throw new RangeError(`a graph needs at least 2 neighbours per site, got ${neighbours}`);
  if (neighbours >= sampled - 1) return null;
  return (sampled * neighbours) % 2 === 1 ? neighbours + 1 : neighbours;
}

/**
 * A round's graph setting for `sampled` sites and the study's `neighbours` (null: automatic), with a
 * fresh random seed; null when the graph is complete (the round then runs the protocol as before).
 */
export function roundGraph(sampled: number, neighbours: number | null): GraphSetting | null {
  const k = neighbours ?? automaticNeighbours(sampled);
  if (k >= sampled - 1) return null;
  const degree = effectiveNeighbours(sampled, k)!;
  const seed = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  return { seed, neighbours: degree, threshold: neighbourhoodThreshold(degree) };
}

/** The graph over a round's sample indexes 0 … n − 1, as every site and the server build it. */
export class CommunicationGraph {
  /** position → sample index around the circle, and back. */
  private readonly order: Uint32Array;
  private readonly position: Uint32Array;
  private readonly half: number;
  private readonly opposite: boolean;

  constructor(
    readonly sampled: number,
    readonly setting: GraphSetting,
  ) {
    const k = setting.neighbours;
    if (!Number.isInteger(sampled) || sampled < 4) throw new RangeError(`a sparse graph needs at least 4 sites, got ${sampled}`);
    if (effectiveNeighbours(sampled, k) !== k) throw new RangeError(`${sampled} sites cannot each have exactly ${k} neighbours in a sparse graph`);
    if (!/^[0-9a-f]{32}$/.test(setting.seed)) throw new RangeError('a graph seed is 32 lowercase hex digits');
    this.half = Math.floor(k / 2);
    this.opposite = k % 2 === 1;
    this.order = permutation(sampled, setting.seed);
    this.position = new Uint32Array(sampled);
    this.order.forEach((site, p) => (this.position[site] = p));
  }

  get degree(): number {
    return this.setting.neighbours;
  }

  get threshold(): number {
    return this.setting.threshold;
  }

  /** Site u's k neighbours, in increasing order. */
  neighboursOf(u: number): number[] {
    this.check(u);
    const n = this.sampled;
    const p = this.position[u];
    const out: number[] = [];
    for (let d = 1; d <= this.half; d++) out.push(this.order[(p + d) % n], this.order[(p - d + n) % n]);
    if (this.opposite) out.push(this.order[(p + n / 2) % n]);
    return out.sort((a, b) => a - b);
  }

  /** Whether u and v are neighbours (never a site and itself). */
  adjacent(u: number, v: number): boolean {
    this.check(u);
    this.check(v);
    const n = this.sampled;
    const d = (this.position[v] - this.position[u] + n) % n;
    const ring = Math.min(d, n - d);
    return (ring >= 1 && ring <= this.half) || (this.opposite && d === n / 2);
  }

  /**
   * Whether the sites of `members` form one connected piece of the graph. The server learns the sum of
   * each piece of the survivors' graph on its own, so an unmasking must cover a connected one.
   */
  connected(members: readonly number[]): boolean {
    if (members.length <= 1) return true;
    const inside = new Set(members);
    const seen = new Set([members[0]]);
    const stack = [members[0]];
    while (stack.length) {
      const u = stack.pop()!;
      for (const v of this.neighboursOf(u))
        if (inside.has(v) && !seen.has(v)) {
          seen.add(v);
          stack.push(v);
        }
    }
    return seen.size === inside.size;
  }

  private check(u: number): void {
    if (!Number.isInteger(u) || u < 0 || u >= this.sampled) throw new RangeError(`site ${u} is not among the round's ${this.sampled} sampled sites`);
  }
}

/**
 * 0 … n − 1 shuffled (Fisher–Yates) by xoshiro128** seeded with the 128-bit seed: not a secret (the
 * server draws the seed and tells every site), only the same on every machine and well spread.
 */
function permutation(n: number, seedHex: string): Uint32Array {
  const s = Uint32Array.from({ length: 4 }, (_, i) => parseInt(seedHex.slice(8 * i, 8 * i + 8), 16));
  if (s.every((w) => w === 0)) s[0] = 1; // the one state xoshiro cannot leave
  const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
  const next = (): number => {
    const out = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return out;
  };
  /** Uniform in [0, m): rejection keeps it unbiased. */
  const below = (m: number): number => {
    const limit = 2 ** 32 - (2 ** 32 % m);
    for (;;) {
      const x = next();
      if (x < limit) return x % m;
    }
  };
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = below(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
