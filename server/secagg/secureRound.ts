import type { Logger } from 'pino';
import { RevealTally, SecAggAbort, unmaskSum, type Advertised, type SecAggParams, type UnmaskResponse } from '../../shared/fl/secagg/protocol';
import { ringAdd } from '../../shared/fl/secagg/ring';
import { fromBase64, wordsShare } from '../../shared/fl/secagg/wire';
import { ConsiliumError, ErrorCode } from '../../shared/protocol/errors';
import type { AdvertiseRequest, RevealRequest, ShareKeysRequest } from '../../shared/protocol/secagg';
import type { CoordinatorEvents } from '../rounds/types';

/**
 * One secure round on the server (shared/fl/secagg/protocol.ts): it relays keys and sealed shares,
 * sums the masked inputs in the ring, and unmasks the sum once enough sites reveal their shares. It
 * is held in memory only: the server never stores a key, a share or a masked input, so a server that
 * dies mid-round has nothing to reveal (the round is abandoned at restart; the next one runs).
 *
 * Steps move on when every site expected has answered, when one leaves (its tab closed), or at the
 * step's deadline; fewer than `threshold` sites at any step ends the round with nothing revealed.
 *
 * With a sparse graph (`setup.graph`, SecAgg+) the server relays to each site only its neighbours'
 * keys and shares, and besides the round's threshold checks each neighbourhood's at every step: a site
 * whose neighbourhood falls below it (its secrets could no longer be rebuilt), or survivors that are not
 * one connected piece of the graph, end the round the same way.
 */
export type SecurePhase = 'advertise' | 'share' | 'mask' | 'unmask' | 'finished';

export interface SecureRoundSetup extends SecAggParams {
  studyId: string;
  round: number;
  /** The round's sampled participant ids, sorted: a site's index is its position. */
  sampled: readonly string[];
  /** Words of a masked input: (values + 1) × lanes. */
  words: number;
  /** Milliseconds each key step waits (advertise, share; the unmasking too). */
  stepMs: number;
  /** When the masked inputs are due: the round's deadline (epoch ms). */
  maskDeadline: number;
}

export interface SecureRoundDeps {
  events: Pick<CoordinatorEvents, 'toParticipant'>;
  log: Logger;
  now(): number;
  /** The unmasked ring sum of the survivors' inputs (their sample indexes). */
  finish(sum: Uint32Array, survivors: number[]): Promise<void>;
  /** The round ends without a version; nothing was revealed. */
  fail(reason: string): Promise<void>;
}

export class SecureRound {
  phase: SecurePhase = 'advertise';
  private readonly index = new Map<string, number>();
  private readonly advertised = new Map<number, Advertised>();
  private u1: number[] = [];
  private readonly sealed = new Map<number, { to: number; sealed: string }[]>();
  private u2: number[] = [];
  private readonly masked = new Set<number>();
  private sum: Uint32Array;
  private u3: number[] = [];
  private readonly reveals = new Map<number, UnmaskResponse>();
  /** In a sparse round: the revealed shares each reconstruction has (the complete graph needs only `threshold` reveals). */
  private tally: RevealTally | null = null;
  private readonly gone = new Set<number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly setup: SecureRoundSetup,
    private readonly deps: SecureRoundDeps,
  ) {
    setup.sampled.forEach((id, k) => this.index.set(id, k));
    this.sum = new Uint32Array(setup.words);
  }

  /** The first step's clock starts. */
  start(): void {
    this.schedule(this.deps.now() + this.setup.stepMs, () => this.afterAdvertise());
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.phase = 'finished';
  }

  indexOf(participantId: string): number {
    const k = this.index.get(participantId);
    if (k === undefined) throw new ConsiliumError(ErrorCode.Forbidden, 'this hospital was not sampled for the round', 403);
    return k;
  }

  /** Who the step now waits for (sample indexes). */
  get awaiting(): number[] {
    const all = this.setup.sampled.map((_, k) => k);
    switch (this.phase) {
      case 'advertise':
        return all.filter((k) => !this.advertised.has(k) && !this.gone.has(k));
      case 'share':
        return this.u1.filter((k) => !this.sealed.has(k) && !this.gone.has(k));
      case 'mask':
        return this.u2.filter((k) => !this.masked.has(k) && !this.gone.has(k));
      case 'unmask':
        return this.u3.filter((k) => !this.reveals.has(k) && !this.gone.has(k));
      default:
        return [];
    }
  }

  advertise(participantId: string, req: AdvertiseRequest): void {
    const k = this.indexOf(participantId);
    this.expect('advertise', 'advertising keys');
    const cPublic = fromBase64(req.cPublic);
    const sPublic = fromBase64(req.sPublic);
    if (cPublic.length !== 65 || sPublic.length !== 65) throw new ConsiliumError(ErrorCode.BadRequest, 'public keys are uncompressed P-256 points (65 bytes)', 400);
    this.advertised.set(k, { index: k, cPublic, sPublic });
    if (this.awaiting.length === 0) this.afterAdvertise();
  }

  shares(participantId: string, req: ShareKeysRequest): void {
    const k = this.indexOf(participantId);
    this.expect('share', 'sharing keys');
    if (!this.u1.includes(k)) throw new ConsiliumError(ErrorCode.Conflict, 'this hospital advertised no keys in time for this round', 409);
    const to = req.sealed.map((s) => s.to);
    const expected = this.peersIn(k, new Set(this.u1));
    if (to.length !== expected.length || new Set(to).size !== to.length || !to.every((v) => expected.includes(v)))
      throw new ConsiliumError(ErrorCode.BadRequest, `shares must be sealed once for each of sites ${expected.join(', ')}`, 400);
    this.sealed.set(k, req.sealed);
    if (this.awaiting.length === 0) this.afterShare();
  }

  /** A masked input, decoded from its body; a repeat from the same site (a retried upload) is taken once. */
  maskedInput(participantId: string, index: number, words: Uint32Array, bits: number): { duplicate: boolean } {
    const k = this.indexOf(participantId);
    if (index !== k) throw new ConsiliumError(ErrorCode.BadRequest, `this hospital is site ${k} of the round, not ${index}`, 400);
    if (this.masked.has(k)) return { duplicate: true };
    this.expect('mask', 'taking masked inputs');
    if (!this.u2.includes(k)) throw new ConsiliumError(ErrorCode.Conflict, 'this hospital shared no keys in time for this round', 409);
    if (bits !== this.setup.bits || words.length !== this.setup.words)
      throw new ConsiliumError(ErrorCode.BadRequest, `a masked input of this round is ${this.setup.words} words in the ${this.setup.bits}-bit ring, got ${words.length} in ${bits}`, 400);
    ringAdd(this.sum, words, this.setup.bits);
    this.masked.add(k);
    if (this.awaiting.length === 0) this.afterMask();
    return { duplicate: false };
  }

  reveal(participantId: string, req: RevealRequest): void {
    const k = this.indexOf(participantId);
    this.expect('unmask', 'unmasking');
    if (!this.u3.includes(k)) throw new ConsiliumError(ErrorCode.Conflict, 'this hospital sent no masked input to this round', 409);
    const decode = (list: RevealRequest['selfSeeds']) => list.map((s) => ({ of: s.of, share: wordsShare(s.x, s.y) }));
    if (this.reveals.has(k)) return;
    const response = { from: k, selfSeeds: decode(req.selfSeeds), maskKeys: decode(req.maskKeys) };
    this.reveals.set(k, response);
    this.tally?.add(response);
    if (this.tally ? this.tally.complete : this.reveals.size >= this.setup.threshold) this.unmask();
  }

  /** A sampled site's tab left: no step waits for it. */
  departed(participantId: string): void {
    const k = this.index.get(participantId);
    if (k === undefined || this.phase === 'finished') return;
    this.gone.add(k);
    if (this.awaiting.length > 0) return;
    if (this.phase === 'advertise') this.afterAdvertise();
    else if (this.phase === 'share') this.afterShare();
    else if (this.phase === 'mask') this.afterMask();
    else if (this.phase === 'unmask') this.unmask();
  }

  private expect(phase: SecurePhase, what: string): void {
    if (this.phase !== phase)
      throw new ConsiliumError(ErrorCode.Conflict, `the round is no longer ${what} (it is at step '${this.phase}')`, 409);
  }

  private schedule(at: number, fn: () => void): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(fn, Math.max(0, at - this.deps.now()));
    this.timer.unref?.();
  }

  private enough(count: number, what: string): boolean {
    if (count >= this.setup.threshold) return true;
    return this.abort(`secure aggregation: ${count} of ${this.setup.sampled.length} sampled sites ${what}; it needs ${this.setup.threshold} (nothing was revealed)`);
  }

  /** Ends the round without a version, nothing revealed. */
  private abort(reason: string): false {
    this.stop();
    void this.deps.fail(reason).catch((err) => this.deps.log.error({ err }, 'could not end a secure round'));
    return false;
  }

  /** Site k's peers among `members`: its neighbours there in a sparse round, every other one in the complete graph. */
  private peersIn(k: number, members: ReadonlySet<number>): number[] {
    const graph = this.setup.graph;
    if (graph) return graph.neighboursOf(k).filter((v) => members.has(v));
    return [...members].filter((v) => v !== k);
  }

  /**
   * In a sparse round, whether each site of `members` keeps at least the neighbourhood threshold of its
   * neighbourhood (itself included) within `members`: else its secrets could not be rebuilt.
   */
  private neighbourhoodsHold(members: readonly number[], what: string): boolean {
    const graph = this.setup.graph;
    if (!graph) return true;
    const set = new Set(members);
    for (const u of members) {
      const kept = 1 + this.peersIn(u, set).length;
      if (kept < graph.threshold)
        return this.abort(`secure aggregation: ${kept} of site ${u}'s ${graph.degree + 1}-site neighbourhood ${what}; it needs ${graph.threshold} (nothing was revealed)`);
    }
    return true;
  }

  /**
   * In a sparse round, at the unmasking's start: every dropped sharer whose pairwise masks the sum carries
   * keeps enough surviving neighbours to rebuild its mask key, and the survivors are one connected piece
   * of the graph (the server must learn their sum only, never a part's).
   */
  private survivorsHold(): boolean {
    const graph = this.setup.graph;
    if (!graph) return true;
    const u3 = new Set(this.u3);
    for (const v of this.u2) {
      if (u3.has(v)) continue;
      const left = this.peersIn(v, u3).length;
      if (left > 0 && left < graph.threshold)
        return this.abort(`secure aggregation: dropped site ${v} kept ${left} neighbours that sent masked inputs, too few to rebuild its mask key; it needs ${graph.threshold} (nothing was revealed)`);
    }
    if (!graph.connected(this.u3))
      return this.abort(`secure aggregation: the ${this.u3.length} sites that sent masked inputs are not one connected piece of the round's graph (nothing was revealed)`);
    return true;
  }

  private send(k: number, event: 'secagg:keys' | 'secagg:shares' | 'secagg:unmask', payload: never): void {
    this.deps.events.toParticipant?.(this.setup.sampled[k], event, payload);
  }

  private afterAdvertise(): void {
    if (this.phase !== 'advertise') return;
    this.u1 = [...this.advertised.keys()].sort((a, b) => a - b);
    if (!this.enough(this.u1.length, 'advertised keys')) return;
    if (!this.neighbourhoodsHold(this.u1, 'advertised keys')) return;
    this.phase = 'share';
    const { studyId, round } = this.setup;
    const wire = (k: number) => {
      const a = this.advertised.get(k)!;
      return { index: k, cPublic: toB64(a.cPublic), sPublic: toB64(a.sPublic) };
    };
    if (!this.setup.graph) {
      const keys = this.u1.map(wire);
      for (const k of this.u1) this.send(k, 'secagg:keys', { studyId, round, keys } as never);
    } else {
      // Each site gets its own keys and its neighbours': the message grows with k, not n.
      const u1 = new Set(this.u1);
      for (const k of this.u1) this.send(k, 'secagg:keys', { studyId, round, keys: [k, ...this.peersIn(k, u1)].sort((a, b) => a - b).map(wire) } as never);
    }
    this.schedule(this.deps.now() + this.setup.stepMs, () => this.afterShare());
  }

  private afterShare(): void {
    if (this.phase !== 'share') return;
    this.u2 = [...this.sealed.keys()].sort((a, b) => a - b);
    if (!this.enough(this.u2.length, 'shared their keys')) return;
    if (!this.neighbourhoodsHold(this.u2, 'shared their keys')) return;
    this.phase = 'mask';
    const { studyId, round } = this.setup;
    const u2 = new Set(this.u2);
    for (const v of this.u2) {
      const sealed = this.peersIn(v, u2).map((u) => ({ from: u, sealed: this.sealed.get(u)!.find((s) => s.to === v)!.sealed }));
      this.send(v, 'secagg:shares', { studyId, round, sealed } as never);
    }
    this.schedule(Math.max(this.setup.maskDeadline, this.deps.now()), () => this.afterMask());
  }

  private afterMask(): void {
    if (this.phase !== 'mask') return;
    this.u3 = [...this.masked].sort((a, b) => a - b);
    if (!this.enough(this.u3.length, 'sent their masked inputs')) return;
    if (!this.neighbourhoodsHold(this.u3, 'sent masked inputs') || !this.survivorsHold()) return;
    if (this.setup.graph) this.tally = new RevealTally(this.setup, this.u2, this.u3);
    this.phase = 'unmask';
    const { studyId, round } = this.setup;
    for (const k of this.u3) this.send(k, 'secagg:unmask', { studyId, round, survivors: this.u3 } as never);
    this.schedule(this.deps.now() + this.setup.stepMs, () => this.unmask());
  }

  private unmask(): void {
    if (this.phase !== 'unmask') return;
    if (!this.tally && !this.enough(this.reveals.size, 'revealed their shares for the unmasking')) return;
    // A sparse round unmasks once every reconstruction has its neighbourhood's threshold of shares, and never short of one.
    if (this.tally && !this.tally.complete) return void this.abort(`secure aggregation: ${this.tally.shortfall()} (nothing was revealed)`);
    const survivors = this.u3;
    const sum = this.sum;
    const responses = [...this.reveals.values()];
    this.stop();
    void (async () => {
      let unmasked: Uint32Array;
      try {
        unmasked = await unmaskSum(this.setup, [...this.advertised.values()], this.u2, survivors, sum, responses);
      } catch (err) {
        if (!(err instanceof SecAggAbort)) throw err;
        return this.deps.fail(`secure aggregation: ${err.message} (nothing was revealed)`);
      }
      await this.deps.finish(unmasked, survivors);
    })().catch((err) => {
      this.deps.log.error({ err, studyId: this.setup.studyId, round: this.setup.round }, 'secure round could not be unmasked');
      return this.deps.fail(`secure aggregation: the unmasking failed (${(err as Error).message})`);
    });
  }
}

function toB64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
