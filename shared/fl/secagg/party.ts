import { clipToNorm } from '../privacy/sitePrivacy';
import type { AdvertiseRequest, AdvertisedKeys, RevealRequest, SecureRound, ShareKeysRequest, SharesForYou, UnmaskRequest } from '../../protocol/secagg';
import { distributedRingInput } from './distributedNoise';
import { SecAggClient, secAggParams } from './protocol';
import { encodeFixed } from './ring';
import { encodeMasked, fromBase64, shareWords, toBase64 } from './wire';

/** What a site fed a round's sum: its ring-encoded (clipped, weighted) update and the weight. */
export interface RingInput {
  /** The site's index in the round's sorted sample (RoundOpen.secureAggregation.index). */
  index: number;
  words: Uint32Array;
  weight: number;
}

/** A masked input ready to send (`POST /api/studies/:id/rounds/:round/masked`, shared/fl/secagg/wire.ts). */
export interface MaskedReady {
  round: number;
  body: Uint8Array;
  input: RingInput;
}

/**
 * The ring input of a site's update: the delta clipped to the round's norm (in place), then one more
 * coordinate, 1, all weighted by min(records, weightCap), so the sum carries Σ w·Δ and Σ w together.
 * Under distributed differential privacy (`sa.noise`, ./distributedNoise.ts) the weight is
 * min(records / record cap, 1), there is no count coordinate (the server divides by the fixed q·W),
 * and the site's share of the study's Skellam noise is in the words before they are masked: no one,
 * this site included, can take it out of the sum afterwards.
 */
export function ringInput(sa: SecureRound, delta: Float32Array[], records: number): RingInput {
  clipToNorm(delta, sa.clipNorm);
  if (sa.noise) {
    const noisy = distributedRingInput(delta, records, sa.noise, sa.fractionBits, sa.bits);
    return { index: sa.index, words: noisy.words, weight: noisy.weight };
  }
  const size = delta.reduce((n, t) => n + t.length, 0);
  const values = new Float64Array(size + 1);
  let at = 0;
  for (const t of delta) {
    values.set(t, at);
    at += t.length;
  }
  values[size] = 1;
  const weight = Math.min(records, sa.weightCap ?? records);
  return { index: sa.index, words: encodeFixed(values, weight, sa.fractionBits, sa.bits), weight };
}

interface PartyRound {
  sa: SecureRound;
  client: Promise<SecAggClient>;
  /** The shares the other sites of U2 sealed for this one (step 2's result). */
  received: { from: number; to: number; sealed: Uint8Array }[] | null;
  input: RingInput | null;
  /** Masking, once begun: only the call that began it hands the result on. */
  masking: Promise<MaskedReady> | null;
  masked: MaskedReady | null;
}

/**
 * One site's side of its secure rounds (shared/fl/secagg/protocol.ts), in the study's wire messages
 * (shared/protocol/secagg.ts), whatever carries them: the hospital tab's worker and the test and
 * simulation clients both run it. Training goes on beside steps 1 and 2: the masked input is ready
 * once both the peers' shares (`received`) and the site's update (`input`) are in, whichever is last.
 * A message for a round this party does not hold (another study's, a closed round's) is ignored: null.
 */
export class SecureParty {
  private rounds = new Map<number, PartyRound>();

  constructor(readonly studyId: string) {}

  has(round: number): boolean {
    return this.rounds.has(round);
  }

  /** Step 1, as the round opens: the keys to advertise. */
  async open(round: number, sa: SecureRound): Promise<AdvertiseRequest> {
    let held = this.rounds.get(round);
    if (!held) {
      held = { sa, client: SecAggClient.create(sa.index, secAggParams(sa)), received: null, input: null, masking: null, masked: null };
      this.rounds.set(round, held);
    }
    const adv = (await held.client).advertise();
    return { studyId: this.studyId, round, cPublic: toBase64(adv.cPublic), sPublic: toBase64(adv.sPublic) };
  }

  /** Step 2: U1's keys are in; the shares this site seals for each peer. */
  async shareKeys(msg: AdvertisedKeys): Promise<ShareKeysRequest | null> {
    const held = this.mine(msg);
    if (!held) return null;
    const client = await held.client;
    const keys = msg.keys.map((k) => ({ index: k.index, cPublic: fromBase64(k.cPublic), sPublic: fromBase64(k.sPublic) }));
    const sealed = await client.shareKeys(keys);
    return { studyId: this.studyId, round: msg.round, sealed: sealed.map((s) => ({ to: s.to, sealed: toBase64(s.sealed) })) };
  }

  /** The shares sealed for this site are in: the masked input, if the update is in too. */
  async received(msg: SharesForYou): Promise<MaskedReady | null> {
    const held = this.mine(msg);
    if (!held) return null;
    held.received = msg.sealed.map((s) => ({ from: s.from, to: held.sa.index, sealed: fromBase64(s.sealed) }));
    return this.mask(msg.round, held);
  }

  /** The site's update is in (`delta` is clipped in place): the masked input, if the shares are in too. */
  async input(round: number, delta: Float32Array[], records: number): Promise<MaskedReady | null> {
    const held = this.rounds.get(round);
    if (!held) return null;
    held.input ??= ringInput(held.sa, delta, records);
    return this.mask(round, held);
  }

  /** The masked input this site made for `round`, once made: to send again after a failed attempt. */
  masked(round: number): MaskedReady | null {
    return this.rounds.get(round)?.masked ?? null;
  }

  /** Step 4: the server names U3; the shares this site reveals. Null where it sent no masked input. */
  async reveal(msg: UnmaskRequest): Promise<RevealRequest | null> {
    const held = this.mine(msg);
    if (!held?.masked) return null;
    const resp = (await held.client).unmask(msg.survivors);
    const wire = (list: typeof resp.selfSeeds) => list.map((s) => ({ of: s.of, x: s.share.x, y: shareWords(s.share) }));
    return { studyId: this.studyId, round: msg.round, selfSeeds: wire(resp.selfSeeds), maskKeys: wire(resp.maskKeys) };
  }

  /** Forgets a round: its keys, seeds and shares. */
  close(round: number): void {
    this.rounds.delete(round);
  }

  private mine(msg: { studyId: string; round: number }): PartyRound | undefined {
    return msg.studyId === this.studyId ? this.rounds.get(msg.round) : undefined;
  }

  private mask(round: number, held: PartyRound): Promise<MaskedReady | null> {
    const { sa, input, received } = held;
    if (held.masking || !received || !input) return Promise.resolve(null);
    held.masking = (async () => {
      const words = await (await held.client).maskedInput(received, input.words);
      held.masked = { round, body: encodeMasked(sa.index, sa.bits, words), input };
      return held.masked;
    })();
    return held.masking;
  }
}
