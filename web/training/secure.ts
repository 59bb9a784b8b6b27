import { SecureParty, type MaskedReady } from '../../shared/fl/secagg/party';
import type { AdvertiseRequest, AdvertisedKeys, RevealRequest, SecureRound, ShareKeysRequest, SharesForYou, UnmaskRequest } from '../../shared/protocol/secagg';
import type { MaskedSent } from './protocol';
import { newIdempotencyKey, postMasked } from './transfer';


/**
 * The worker's side of secure rounds (shared/fl/secagg/party.ts): the site's key pairs, self-mask
 * seed, the shares it holds and its update's ring input stay in this worker; the page only relays
 * the round's messages between the worker and the coordinator's socket.
 */
export class SecureRounds {
  private readonly parties = new Map<string, { party: SecureParty; token: string }>();

  async open(token: string, studyId: string, round: number, sa: SecureRound): Promise<AdvertiseRequest> {
    let held = this.parties.get(studyId);
    if (!held) this.parties.set(studyId, (held = { party: new SecureParty(studyId), token }));
    held.token = token;
    return held.party.open(round, sa);
  }

  async shareKeys(msg: AdvertisedKeys): Promise<ShareKeysRequest | null> {
    return (await this.parties.get(msg.studyId)?.party.shareKeys(msg)) ?? null;
  }

  /** The peers' shares are in: the masked input goes out now if the update is ready. */
  async received(msg: SharesForYou): Promise<MaskedSent | null> {
    return this.send(msg.studyId, await this.parties.get(msg.studyId)?.party.received(msg));
  }

  /** Training is done: the update (clipped in place) goes out masked now if the peers' shares are in. */
  async input(studyId: string, round: number, delta: Float32Array[], records: number): Promise<MaskedSent | null> {
    return this.send(studyId, await this.parties.get(studyId)?.party.input(round, delta, records));
  }

  /** Whether `round` is one this worker holds keys for (it advertised them). */
  holds(studyId: string, round: number): boolean {
    return this.parties.get(studyId)?.party.has(round) ?? false;
  }

  async reveal(msg: UnmaskRequest): Promise<RevealRequest | null> {
    return (await this.parties.get(msg.studyId)?.party.reveal(msg)) ?? null;
  }

  close(studyId: string, round: number): void {
    this.parties.get(studyId)?.party.close(round);
  }

  private async send(studyId: string, ready: MaskedReady | null | undefined): Promise<MaskedSent | null> {
    const held = this.parties.get(studyId);
    if (!ready || !held) return null;
    const { duplicate } = await postMasked({ token: held.token, studyId, round: ready.round, idempotencyKey: newIdempotencyKey(), body: ready.body });
    return { round: ready.round, duplicate };
  }
}
