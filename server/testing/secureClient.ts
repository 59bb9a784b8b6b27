import { SecureParty, type MaskedReady, type RingInput } from '../../shared/fl/secagg/party';
import type { RoundOpen, SecureRound } from '../../shared/protocol/schemas';
import { emitAck, type ClientSocket } from './harness';

export type { RingInput } from '../../shared/fl/secagg/party';

/**
 * Where a simulated site drops out of a secure round: `before-masking`, after it has advertised and
 * shared its keys, before its masked input (its update is not in the round's sum); `after-masking`,
 * once its masked input is in (its update is in the sum), before it answers the unmasking.
 */
export type Dropout = 'before-masking' | 'after-masking';

export interface SecureSite {
  url: string;
  studyId: string;
  token: string;
  id: string;
  onError(err: unknown): void;
}

/**
 * A simulated site's side of secure aggregation over Socket.IO and HTTP (shared/fl/secagg/party.ts,
 * as a hospital tab runs it), with the dropouts a test asks for.
 */
export class SecureClient {
  private readonly party: SecureParty;
  private readonly dropouts = new Map<number, Dropout | null>();
  /** Every ring input this site sent, by round: what the server's unmasked sum must add up to. */
  readonly ringInputs = new Map<number, RingInput>();

  constructor(
    private readonly site: SecureSite,
    private readonly socket: ClientSocket,
  ) {
    this.party = new SecureParty(site.studyId);
    socket.on('secagg:keys', (msg) =>
      this.run(async () => {
        const shares = await this.party.shareKeys(msg);
        if (shares) this.ack('secagg:shares', await emitAck(this.socket, 'secagg:shares', shares), msg.round);
      }),
    );
    socket.on('secagg:shares', (msg) => this.run(async () => this.send(await this.party.received(msg))));
    socket.on('secagg:unmask', (msg) =>
      this.run(async () => {
        if (this.dropouts.get(msg.round) === 'after-masking') return;
        const reveal = await this.party.reveal(msg);
        if (reveal) this.ack('secagg:reveal', await emitAck(this.socket, 'secagg:reveal', reveal), msg.round);
      }),
    );
  }

  /** Step 1, as the round opens. */
  open(open: RoundOpen & { secureAggregation: SecureRound }, dropout: Dropout | null): void {
    if (this.party.has(open.round)) return;
    this.dropouts.set(open.round, dropout);
    this.run(async () => {
      const adv = await this.party.open(open.round, open.secureAggregation);
      this.ack('secagg:advertise', await emitAck(this.socket, 'secagg:advertise', adv), open.round);
    });
  }

  /** Training is done: the delta (clipped in place), weighted by its records, into the round. */
  async submit(round: number, delta: Float32Array[], records: number): Promise<void> {
    if (this.dropouts.get(round) === 'before-masking') return;
    await this.send(await this.party.input(round, delta, records));
  }

  /** Drops what a closed round held. */
  close(round: number): void {
    this.party.close(round);
    this.dropouts.delete(round);
  }

  private run(job: () => Promise<void>): void {
    job().catch((err) => this.site.onError(err));
  }

  private ack(event: string, ack: { ok: boolean; error?: { message: string } }, round: number): void {
    if (!ack.ok) throw new Error(`${this.site.id}: ${event} for round ${round} refused: ${ack.error?.message}`);
  }

  /** Step 3. */
  private async send(ready: MaskedReady | null): Promise<void> {
    if (!ready || this.dropouts.get(ready.round) === 'before-masking') return;
    const { round, body } = ready;
    const res = await fetch(`${this.site.url}/api/studies/${this.site.studyId}/rounds/${round}/masked`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.site.token}`,
        'content-type': 'application/octet-stream',
        'idempotency-key': `${this.site.id}-round-${round}-masked`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 128),
      },
      body: body as Uint8Array<ArrayBuffer>,
    });
    if (res.status !== 200) throw new Error(`${this.site.id}: masked input for round ${round} refused: HTTP ${res.status} ${await res.text()}`);
    this.ringInputs.set(round, ready.input);
  }
}
