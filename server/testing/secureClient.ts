import { clipToNorm } from '../../shared/fl/privacy/sitePrivacy';
import { SecAggClient } from '../../shared/fl/secagg/protocol';
import { encodeFixed } from '../../shared/fl/secagg/ring';
import { encodeMasked, fromBase64, shareWords, toBase64 } from '../../shared/fl/secagg/wire';
import type { RoundOpen, SecureRound } from '../../shared/protocol/schemas';
import type { AdvertisedKeys, SharesForYou, UnmaskRequest } from '../../shared/protocol/secagg';
import { emitAck, type ClientSocket } from './harness';

/**
 * Where a simulated site drops out of a secure round: `before-masking`, after it has advertised and
 * shared its keys, before its masked input (its update is not in the round's sum); `after-masking`,
 * once its masked input is in (its update is in the sum), before it answers the unmasking.
 */
export type Dropout = 'before-masking' | 'after-masking';

/** What a site fed the round's sum: its ring-encoded (clipped, weighted) update and the weight. */
export interface RingInput {
  /** The site's index in the round's sorted sample (RoundOpen.secureAggregation.index). */
  index: number;
  words: Uint32Array;
  weight: number;
}

export interface SecureSite {
  url: string;
  studyId: string;
  token: string;
  id: string;
  onError(err: unknown): void;
}

/** One round as this site runs it. */
interface SiteRound {
  sa: SecureRound;
  dropout: Dropout | null;
  client: Promise<SecAggClient>;
  /** The shares the other sites of U2 sealed for this one (step 2's result). */
  received: { from: number; to: number; sealed: Uint8Array }[] | null;
  input: RingInput | null;
  sent: boolean;
}

/**
 * A site's side of secure aggregation over Socket.IO and HTTP, as its tab runs it (server mode,
 * shared/fl/secagg/protocol.ts): advertise keys when the round opens, share them when the server relays
 * U1's keys, send the masked input once the peers' shares are in and training is done, reveal shares
 * when the server names the survivors. Training goes on beside steps 1 and 2.
 */
export class SecureClient {
  private rounds = new Map<number, SiteRound>();
  /** Every ring input this site sent, by round: what the server's unmasked sum must add up to. */
  readonly ringInputs = new Map<number, RingInput>();

  constructor(
    private readonly site: SecureSite,
    private readonly socket: ClientSocket,
  ) {
    socket.on('secagg:keys', (msg) => this.run(() => this.shareKeys(msg)));
    socket.on('secagg:shares', (msg) => this.run(() => this.receiveShares(msg)));
    socket.on('secagg:unmask', (msg) => this.run(() => this.reveal(msg)));
  }

  /** Step 1, as the round opens. */
  open(open: RoundOpen & { secureAggregation: SecureRound }, dropout: Dropout | null): void {
    if (this.rounds.has(open.round)) return;
    const sa = open.secureAggregation;
    const client = SecAggClient.create(sa.index, { context: sa.context, threshold: sa.threshold, bits: sa.bits });
    this.rounds.set(open.round, { sa, dropout, client, received: null, input: null, sent: false });
    this.run(async () => {
      const adv = (await client).advertise();
      const ack = await emitAck(this.socket, 'secagg:advertise', {
        studyId: this.site.studyId,
        round: open.round,
        cPublic: toBase64(adv.cPublic),
        sPublic: toBase64(adv.sPublic),
      });
      if (!ack.ok) throw new Error(`${this.site.id}: keys for round ${open.round} refused: ${ack.error.message}`);
    });
  }

  /**
   * Training is done: the delta, clipped to the round's norm, then one more coordinate, 1, all weighted
   * by min(records, cap), so the sum carries Σ w Δ and Σ w together. `delta` is clipped in place.
   */
  async submit(roundNumber: number, delta: Float32Array[], records: number): Promise<void> {
    const round = this.rounds.get(roundNumber);
    if (!round || round.dropout === 'before-masking') return;
    const { sa } = round;
    clipToNorm(delta, sa.clipNorm);
    const size = delta.reduce((n, t) => n + t.length, 0);
    const values = new Float64Array(size + 1);
    let at = 0;
    for (const t of delta) {
      values.set(t, at);
      at += t.length;
    }
    values[size] = 1;
    const weight = Math.min(records, sa.weightCap ?? records);
    round.input = { index: sa.index, words: encodeFixed(values, weight, sa.fractionBits, sa.bits), weight };
    await this.sendMasked(roundNumber, round);
  }

  /** Drops what a closed round held. */
  close(roundNumber: number): void {
    this.rounds.delete(roundNumber);
  }

  private run(job: () => Promise<void>): void {
    job().catch((err) => this.site.onError(err));
  }

  private mine(msg: { studyId: string; round: number }): SiteRound | undefined {
    return msg.studyId === this.site.studyId ? this.rounds.get(msg.round) : undefined;
  }

  /** Step 2. */
  private async shareKeys(msg: AdvertisedKeys): Promise<void> {
    const round = this.mine(msg);
    if (!round) return;
    const client = await round.client;
    const sealed = await client.shareKeys(msg.keys.map((k) => ({ index: k.index, cPublic: fromBase64(k.cPublic), sPublic: fromBase64(k.sPublic) })));
    const ack = await emitAck(this.socket, 'secagg:shares', {
      studyId: this.site.studyId,
      round: msg.round,
      sealed: sealed.map((s) => ({ to: s.to, sealed: toBase64(s.sealed) })),
    });
    if (!ack.ok) throw new Error(`${this.site.id}: shares for round ${msg.round} refused: ${ack.error.message}`);
  }

  private async receiveShares(msg: SharesForYou): Promise<void> {
    const round = this.mine(msg);
    if (!round) return;
    round.received = msg.sealed.map((s) => ({ from: s.from, to: round.sa.index, sealed: fromBase64(s.sealed) }));
    await this.sendMasked(msg.round, round);
  }

  /** Step 3, once both the peers' shares and this site's update are in. */
  private async sendMasked(roundNumber: number, round: SiteRound): Promise<void> {
    if (round.sent || !round.received || !round.input || round.dropout === 'before-masking') return;
    round.sent = true;
    const { sa, input } = round;
    const masked = await (await round.client).maskedInput(round.received, input.words);
    const res = await fetch(`${this.site.url}/api/studies/${this.site.studyId}/rounds/${roundNumber}/masked`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.site.token}`,
        'content-type': 'application/octet-stream',
        'idempotency-key': `${this.site.id}-round-${roundNumber}-masked`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 128),
      },
      body: encodeMasked(sa.index, sa.bits, masked) as Uint8Array<ArrayBuffer>,
    });
    if (res.status !== 200) throw new Error(`${this.site.id}: masked input for round ${roundNumber} refused: HTTP ${res.status} ${await res.text()}`);
    this.ringInputs.set(roundNumber, input);
  }

  /** Step 4. */
  private async reveal(msg: UnmaskRequest): Promise<void> {
    const round = this.mine(msg);
    if (!round || !round.sent || round.dropout === 'after-masking') return;
    const resp = (await round.client).unmask(msg.survivors);
    const wire = (list: typeof resp.selfSeeds) => list.map((s) => ({ of: s.of, x: s.share.x, y: shareWords(s.share) }));
    const ack = await emitAck(this.socket, 'secagg:reveal', {
      studyId: this.site.studyId,
      round: msg.round,
      selfSeeds: wire(resp.selfSeeds),
      maskKeys: wire(resp.maskKeys),
    });
    if (!ack.ok) throw new Error(`${this.site.id}: reveal for round ${msg.round} refused: ${ack.error.message}`);
  }
}
