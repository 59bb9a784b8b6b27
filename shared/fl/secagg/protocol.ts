import { CommunicationGraph, neighbourhoodThreshold } from './graph';
import { agreedSeed, expandMask, generateAgreementKeys, importPrivateScalar, importPublicKey, maskInput, type AgreementKeys } from './masks';
import { ringAdd, ringSub, type RingBits } from './ring';
import { combine, split, type Share } from './shamir';
import type { SecureRound } from '../../protocol/secagg';

/**
 * Secure aggregation in server mode (Bonawitz et al. 2017, "Practical secure aggregation for
 * privacy-preserving machine learning", the honest-but-curious variant): the server learns the sum of
 * the surviving sites' ring-encoded updates and nothing else, and a round survives sites dropping out
 * at any step as long as `threshold` of them stay.
 *
 * 1. Advertise keys: each sampled site sends two P-256 public keys, one to encrypt shares (c), one to
 *    agree masks (s). U1: the sites that did.
 * 2. Share keys: each site of U1 draws a self-mask seed b_u, Shamir-shares b_u and its mask key's
 *    private scalar t-of-|U1| among U1, and sends each peer its two shares encrypted (AES-GCM under an
 *    ECDH(c) key the server cannot derive). U2: the sites that did; the server relays the ciphertexts.
 * 3. Masked input: each site of U2 sends x_u + PRG(b_u) ± PRG(s_uv) for every other v in U2. U3: the
 *    sites that did. The server sums their masked inputs.
 * 4. Unmasking: each site of U3 reveals, for every site of U3, its share of b (the self mask is
 *    removed), and for every site of U2 not in U3, its share of the mask key (that site's pairwise
 *    masks, which the survivors' inputs still carry, are rebuilt and removed). Never both for one site.
 *
 * With a sparse graph (SecAgg+, Bell et al. 2020; ./graph.ts) "every other site" becomes "every
 * neighbour": a site shares its secrets t-of-(its neighbourhood in U1) among its neighbours and itself,
 * with the graph's neighbourhood threshold, masks against its neighbours in U2 only, and reveals only
 * for its neighbours. The round still needs `threshold` sites at each step (the fewest whose sum the
 * server may learn), and besides every neighbourhood needs its own threshold, and the survivors must
 * form one connected piece of the graph (else the server could unmask each piece's sum on its own).
 *
 * A site "finishes" a round when its masked input is in U3: its update is in the sum, even if it
 * leaves before step 4. Fewer than `threshold` sites at any step ends the round with nothing revealed.
 * Active attacks by the server (claiming different U3 to different sites, inventing dropouts to learn
 * one site's mask key and self seed both, choosing the graph's seed) are out of scope: the full
 * protocol's consistency check (sites sign and echo U3 before unmasking) is what defends against them.
 */
export interface SecAggParams {
  /** Binds every seed and ciphertext to one study's round: `study-id/round-7`. */
  context: string;
  /** t: the fewest sites any step may continue with; at least ⌊n/2⌋ + 1 of those sampled. */
  threshold: number;
  bits: RingBits;
  /** The round's sparse graph; absent: the complete graph, every site a neighbour of every other. */
  graph?: CommunicationGraph;
}

/** A site's parameters for a round, from what its RoundOpen says (shared/protocol/secagg.ts). */
export function secAggParams(sa: Pick<SecureRound, 'context' | 'threshold' | 'bits'> & Partial<Pick<SecureRound, 'sampled' | 'graph'>>): SecAggParams {
  const params: SecAggParams = { context: sa.context, threshold: sa.threshold, bits: sa.bits };
  if (!sa.graph) return params;
  if (sa.sampled === undefined) throw new SecAggAbort('a sparse graph needs the number of sites sampled');
  const { neighbours, threshold } = sa.graph;
  if (threshold < neighbourhoodThreshold(neighbours) || threshold > neighbours + 1)
    throw new SecAggAbort(`a neighbourhood threshold of ${threshold} among ${neighbours + 1} sites is refused: it must be ${neighbourhoodThreshold(neighbours)} to ${neighbours + 1}`);
  try {
    return { ...params, graph: new CommunicationGraph(sa.sampled, sa.graph) };
  } catch (err) {
    throw new SecAggAbort(`the round's graph cannot be built: ${(err as Error).message}`);
  }
}

/** The least threshold for `sampled` sites: ⌊n/2⌋ + 1. */
export const minimumThreshold = (sampled: number) => Math.floor(sampled / 2) + 1;

export class SecAggAbort extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecAggAbort';
  }
}

/** Step 1's message: a site's index in the round's sorted sample and its two public keys. */
export interface Advertised {
  index: number;
  cPublic: Uint8Array;
  sPublic: Uint8Array;
}

/** Step 2's message, one per (from, to): the two shares, sealed for `to` alone. */
export interface SealedShares {
  from: number;
  to: number;
  /** 12-byte AES-GCM nonce, then the ciphertext and tag. */
  sealed: Uint8Array;
}

/** Step 4's message from one site of U3. */
export interface UnmaskResponse {
  from: number;
  /** Shares of the self-mask seeds of the sites in U3. */
  selfSeeds: { of: number; share: Share }[];
  /** Shares of the mask keys of the sites that shared keys and sent no masked input. */
  maskKeys: { of: number; share: Share }[];
}

const SEED_BYTES = 32;

/** One sampled site's side of a secure round: its keys, its seeds, the shares it holds. */
export class SecAggClient {
  private peers = new Map<number, Advertised>();
  private selfSeed: Uint8Array | null = null;
  private held = new Map<number, { selfSeed: Share; maskKey: Share }>();
  private sharers: number[] = [];

  private constructor(
    readonly index: number,
    readonly params: SecAggParams,
    private readonly c: AgreementKeys,
    private readonly s: AgreementKeys,
  ) {}

  static async create(index: number, params: SecAggParams): Promise<SecAggClient> {
    return new SecAggClient(index, params, await generateAgreementKeys(), await generateAgreementKeys());
  }

  /** Step 1. */
  advertise(): Advertised {
    return { index: this.index, cPublic: this.c.publicRaw, sPublic: this.s.publicRaw };
  }

  /**
   * Step 2: given U1's advertisements (this site's included; in a sparse round, its neighbours' only),
   * the shares sealed for each peer.
   */
  async shareKeys(advertised: readonly Advertised[]): Promise<SealedShares[]> {
    const u1 = [...advertised].sort((a, b) => a.index - b.index);
    const graph = this.params.graph;
    if (!graph && u1.length < this.params.threshold) throw new SecAggAbort(`${u1.length} sites advertised keys; the round needs ${this.params.threshold}`);
    if (!u1.some((a) => a.index === this.index)) throw new SecAggAbort('this site is not among those that advertised keys');
    if (graph) {
      const stranger = u1.find((a) => a.index !== this.index && !this.neighbour(a.index));
      if (stranger) throw new SecAggAbort(`the keys of site ${stranger.index} were relayed to site ${this.index}, which is not its neighbour in the round's graph`);
      if (u1.length < graph.threshold) throw new SecAggAbort(`${this.neighbourhood(u1.length)} advertised keys; it needs ${graph.threshold}`);
    }
    for (const a of u1) this.peers.set(a.index, a);
    this.selfSeed = crypto.getRandomValues(new Uint8Array(SEED_BYTES));
    const threshold = graph?.threshold ?? this.params.threshold;
    const seedShares = split(this.selfSeed, u1.length, threshold);
    const keyShares = split(this.s.privateScalar, u1.length, threshold);
    const out: SealedShares[] = [];
    for (const [k, peer] of u1.entries()) {
      const shares = { selfSeed: seedShares[k], maskKey: keyShares[k] };
      if (peer.index === this.index) this.held.set(this.index, shares);
      else out.push({ from: this.index, to: peer.index, sealed: await this.seal(peer, shares) });
    }
    return out;
  }

  /**
   * Step 3: given the shares sealed for this site by the other sites of U2 (its neighbours among them,
   * in a sparse round), its masked input. `input` is the site's ring-encoded update (./ring.ts).
   */
  async maskedInput(received: readonly SealedShares[], input: Uint32Array): Promise<Uint32Array> {
    if (!this.selfSeed) throw new Error('shareKeys first');
    for (const r of received) {
      if (r.to !== this.index) throw new SecAggAbort(`shares for site ${r.to} delivered to site ${this.index}`);
      if (this.params.graph && !this.neighbour(r.from)) throw new SecAggAbort(`shares from site ${r.from}, which is not a neighbour of site ${this.index} in the round's graph`);
      const peer = this.peers.get(r.from);
      if (!peer) throw new SecAggAbort(`shares from site ${r.from}, which advertised no keys`);
      this.held.set(r.from, await this.open(peer, r.sealed));
    }
    this.sharers = [...this.held.keys()].sort((a, b) => a - b);
    const graph = this.params.graph;
    if (!graph && this.sharers.length < this.params.threshold) throw new SecAggAbort(`${this.sharers.length} sites shared keys; the round needs ${this.params.threshold}`);
    // Fewer left in its neighbourhood and this site's own secrets could not be rebuilt: the round cannot end well.
    if (graph && this.sharers.length < graph.threshold) throw new SecAggAbort(`${this.neighbourhood(this.sharers.length)} shared keys; it needs ${graph.threshold}`);
    const pairs = [];
    for (const v of this.sharers) {
      if (v === this.index) continue;
      const peerKey = await importPublicKey(this.peers.get(v)!.sPublic);
      pairs.push({ peer: v, seed: await agreedSeed(this.s.privateKey, peerKey, pairContext(this.params.context, this.index, v)) });
    }
    return maskInput(input, this.index, this.selfSeed, pairs, this.params.bits);
  }

  /**
   * Step 4: given U3, the sites whose masked inputs the server holds, this site's shares to reveal:
   * a self-seed share for each of U3, a mask-key share for each of U2 outside U3, never both for one site
   * (in a sparse round, for its neighbours only: it holds no other site's shares).
   */
  unmask(survivors: readonly number[]): UnmaskResponse {
    const u3 = new Set(survivors);
    if (u3.size < this.params.threshold) throw new SecAggAbort(`${u3.size} masked inputs arrived; the round needs ${this.params.threshold}: nothing is revealed`);
    if (!u3.has(this.index)) throw new SecAggAbort('this site sent no masked input and reveals nothing');
    const graph = this.params.graph;
    if (graph) {
      const outside = survivors.find((v) => !Number.isInteger(v) || v < 0 || v >= graph.sampled);
      if (outside !== undefined) throw new SecAggAbort(`site ${outside} is said to have sent a masked input, but it was not sampled`);
    }
    for (const v of u3) if (!this.held.has(v) && (!graph || this.neighbour(v))) throw new SecAggAbort(`site ${v} is said to have sent a masked input, but it shared no keys`);
    if (graph) {
      const kept = this.sharers.filter((v) => u3.has(v)).length;
      if (kept < graph.threshold) throw new SecAggAbort(`${this.neighbourhood(kept)} sent masked inputs; it needs ${graph.threshold}: nothing is revealed`);
      if (!graph.connected([...u3]))
        throw new SecAggAbort(`the ${u3.size} sites that sent masked inputs are not one connected piece of the round's graph (the server could unmask each piece's sum): nothing is revealed`);
    }
    const response: UnmaskResponse = { from: this.index, selfSeeds: [], maskKeys: [] };
    for (const v of this.sharers) {
      const shares = this.held.get(v)!;
      if (u3.has(v)) response.selfSeeds.push({ of: v, share: shares.selfSeed });
      else response.maskKeys.push({ of: v, share: shares.maskKey });
    }
    return response;
  }

  private neighbour(v: number): boolean {
    return v !== this.index && Number.isInteger(v) && v >= 0 && v < this.params.graph!.sampled && this.params.graph!.adjacent(this.index, v);
  }

  /** "3 of site 5's 5-site neighbourhood": how many of it are still in. */
  private neighbourhood(count: number): string {
    return `${count} of site ${this.index}'s ${this.params.graph!.degree + 1}-site neighbourhood`;
  }

  private async shareKey(peer: Advertised): Promise<CryptoKey> {
    const seed = await agreedSeed(this.c.privateKey, await importPublicKey(peer.cPublic), shareContext(this.params.context, this.index, peer.index));
    return crypto.subtle.importKey('raw', seed as Uint8Array<ArrayBuffer>, 'AES-GCM', false, ['encrypt', 'decrypt']);
  }

  private async seal(peer: Advertised, shares: { selfSeed: Share; maskKey: Share }): Promise<Uint8Array> {
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const plain = encodeShares(this.index, peer.index, shares);
    const aad = new TextEncoder().encode(this.params.context);
    const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad }, await this.shareKey(peer), plain));
    const out = new Uint8Array(12 + sealed.length);
    out.set(nonce);
    out.set(sealed, 12);
    return out;
  }

  private async open(peer: Advertised, sealed: Uint8Array): Promise<{ selfSeed: Share; maskKey: Share }> {
    const aad = new TextEncoder().encode(this.params.context);
    let plain: Uint8Array;
    try {
      plain = new Uint8Array(
        await crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.slice(0, 12), additionalData: aad }, await this.shareKey(peer), sealed.slice(12)),
      );
    } catch {
      throw new SecAggAbort(`the shares from site ${peer.index} do not open: tampered, or sealed for another round`);
    }
    const decoded = decodeShares(plain);
    if (decoded.from !== peer.index || decoded.to !== this.index) throw new SecAggAbort(`shares from site ${peer.index} name sites ${decoded.from} → ${decoded.to}`);
    return decoded.shares;
  }
}

/**
 * Step 4's bookkeeping: the usable shares each reconstruction has, against its threshold. What must be
 * rebuilt: each survivor's self seed (from its neighbourhood, itself included), and the mask key of each
 * dropped sharer that has a surviving neighbour (from its neighbours; one without any left no mask to
 * remove). A share counts only from a site that holds one (its neighbour, or any site in the complete
 * graph), once per site. The server feeds it reveal by reveal; `complete` says when it can unmask.
 */
export class RevealTally {
  readonly selfSeeds = new Map<number, Share[]>();
  readonly maskKeys = new Map<number, Share[]>();
  /** t per reconstruction: the graph's neighbourhood threshold, else the round's. */
  readonly need: number;
  private readonly answered = new Set<number>();
  private short: number;

  constructor(
    private readonly params: SecAggParams,
    sharers: readonly number[],
    survivors: readonly number[],
  ) {
    const u3 = new Set(survivors);
    const graph = params.graph;
    for (const u of survivors) this.selfSeeds.set(u, []);
    for (const v of sharers) if (!u3.has(v) && (graph ? graph.neighboursOf(v).some((u) => u3.has(u)) : u3.size > 0)) this.maskKeys.set(v, []);
    this.need = graph?.threshold ?? params.threshold;
    this.short = this.selfSeeds.size + this.maskKeys.size;
  }

  /** Whether site `from` was given a share of site `of`'s secrets. */
  holds(from: number, of: number): boolean {
    return !this.params.graph || from === of || this.params.graph.adjacent(from, of);
  }

  add(response: UnmaskResponse): void {
    if (this.answered.has(response.from)) return;
    this.answered.add(response.from);
    // One share per site and secret: a second of the same would be the same holder's again.
    const once = <T extends { of: number }>(list: readonly T[]) => {
      const seen = new Set<number>();
      return list.filter((s) => !seen.has(s.of) && !!seen.add(s.of));
    };
    for (const s of once(response.selfSeeds)) this.count(this.selfSeeds, response.from, s.of, s.share);
    for (const s of once(response.maskKeys)) if (s.of !== response.from) this.count(this.maskKeys, response.from, s.of, s.share);
  }

  /** Every reconstruction has its threshold's worth of shares. */
  get complete(): boolean {
    return this.short === 0;
  }

  /** The first reconstruction short of its threshold, in words; null when none is. */
  shortfall(): string | null {
    for (const [u, shares] of this.selfSeeds) if (shares.length < this.need) return `${shares.length} shares of site ${u}'s self mask; ${this.need} needed`;
    for (const [v, shares] of this.maskKeys) if (shares.length < this.need) return `${shares.length} shares of dropped site ${v}'s mask key; ${this.need} needed`;
    return null;
  }

  private count(map: Map<number, Share[]>, from: number, of: number, share: Share): void {
    const shares = map.get(of);
    if (!shares || !this.holds(from, of)) return;
    shares.push(share);
    if (shares.length === this.need) this.short--;
  }
}

/**
 * The server's step 4: the sum of U3's masked inputs, unmasked with the responses of at least
 * `threshold` sites: the survivors' self masks removed, the dropped sharers' pairwise masks rebuilt
 * from their reconstructed mask keys and removed. The result is exactly Σ_{U3} x_u in the ring. Every
 * reconstruction's threshold is checked before any is made: short of one, nothing is rebuilt.
 */
export async function unmaskSum(
  params: SecAggParams,
  advertised: readonly Advertised[],
  sharers: readonly number[],
  survivors: readonly number[],
  maskedSum: Uint32Array,
  responses: readonly UnmaskResponse[],
): Promise<Uint32Array> {
  const u3 = new Set(survivors);
  const graph = params.graph;
  if (u3.size < params.threshold) throw new SecAggAbort(`${u3.size} masked inputs; the round needs ${params.threshold}`);
  if (!graph && responses.length < params.threshold) throw new SecAggAbort(`${responses.length} sites answered the unmasking; the round needs ${params.threshold}`);
  if (graph && !graph.connected(survivors)) throw new SecAggAbort(`the ${u3.size} survivors are not one connected piece of the round's graph`);
  const tally = new RevealTally(params, sharers, survivors);
  for (const r of responses) tally.add(r);
  const short = tally.shortfall();
  if (short) throw new SecAggAbort(short);
  const keys = new Map(advertised.map((a) => [a.index, a]));
  for (const v of tally.maskKeys.keys()) if (!keys.has(v)) throw new SecAggAbort(`site ${v} shared keys without advertising them`);
  const sum = maskedSum.slice();
  for (const [u, shares] of tally.selfSeeds) ringSub(sum, await expandMask(combine(shares, SEED_BYTES), sum.length), params.bits);
  for (const [v, shares] of tally.maskKeys) {
    const rebuilt = await importPrivateScalar(combine(shares, 32), keys.get(v)!.sPublic);
    // Only v's neighbours masked against it.
    for (const u of graph ? graph.neighboursOf(v).filter((w) => u3.has(w)) : survivors) {
      const seed = await agreedSeed(rebuilt, await importPublicKey(keys.get(u)!.sPublic), pairContext(params.context, u, v));
      const mask = await expandMask(seed, sum.length);
      // Survivor u added the mask if v came after it, subtracted it if before: undo that.
      if (v > u) ringSub(sum, mask, params.bits);
      else ringAdd(sum, mask, params.bits);
    }
  }
  return sum;
}

const pairContext = (context: string, a: number, b: number) => `${context}/mask/${Math.min(a, b)}-${Math.max(a, b)}`;
const shareContext = (context: string, a: number, b: number) => `${context}/shares/${Math.min(a, b)}-${Math.max(a, b)}`;

/** from u32 | to u32 | two shares, each x u16 | words u16 | y words. */
function encodeShares(from: number, to: number, shares: { selfSeed: Share; maskKey: Share }): Uint8Array<ArrayBuffer> {
  const parts = [shares.selfSeed, shares.maskKey];
  const out = new Uint8Array(8 + parts.reduce((n, s) => n + 4 + 2 * s.y.length, 0));
  const view = new DataView(out.buffer);
  view.setUint32(0, from);
  view.setUint32(4, to);
  let at = 8;
  for (const s of parts) {
    view.setUint16(at, s.x);
    view.setUint16(at + 2, s.y.length);
    at += 4;
    for (const w of s.y) {
      view.setUint16(at, w);
      at += 2;
    }
  }
  return out;
}

function decodeShares(bytes: Uint8Array): { from: number; to: number; shares: { selfSeed: Share; maskKey: Share } } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  const read = (): Share => {
    const x = view.getUint16(at);
    const n = view.getUint16(at + 2);
    at += 4;
    const y = new Uint16Array(n);
    for (let i = 0; i < n; i++, at += 2) y[i] = view.getUint16(at);
    return { x, y };
  };
  const selfSeed = read();
  const maskKey = read();
  return { from: view.getUint32(0), to: view.getUint32(4), shares: { selfSeed, maskKey } };
}
