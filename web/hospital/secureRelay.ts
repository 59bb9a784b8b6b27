import type { RoundOpen, SecureRound } from '../../shared/protocol';
import { emitWithAck, type ConsiliumSocket } from '../api/socket';
import type { TrainingWorker } from '../training/client';
import type { MaskedSent } from '../training/protocol';
import type { ActivityEntry } from './hospitalState';

export interface SecureRelayDeps {
  worker: TrainingWorker;
  token: string;
  studyId: () => string | undefined;
  log(text: string, tone?: ActivityEntry['tone']): void;
  /** This site's masked input reached the round after training had ended (the peers' shares came last). */
  onMaskedSent(sent: MaskedSent): void;
  /** The coordinator refused one of this site's steps: it sits the round out. */
  onSatOut(round: number): void;
}

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * A hospital tab's part in secure rounds (shared/fl/secagg/protocol.ts): the worker holds the site's
 * keys, seeds, shares and update and does every step's work; this relays the steps between it and the
 * coordinator's socket. Each step is short on this thread: a few awaits and one emit.
 */
export class SecureRelay {
  constructor(private readonly deps: SecureRelayDeps) {}

  attach(socket: ConsiliumSocket): void {
    const { worker } = this.deps;
    socket.on('secagg:keys', (msg) =>
      this.step(msg.round, 'key shares', async () => {
        const shares = await worker.secureShareKeys(msg);
        if (shares) await emitWithAck(socket, 'secagg:shares', shares);
      }),
    );
    socket.on('secagg:shares', (msg) =>
      this.step(msg.round, 'masked update', async () => {
        const sent = await worker.secureReceived(msg);
        if (sent) this.deps.onMaskedSent(sent);
      }),
    );
    socket.on('secagg:unmask', (msg) =>
      this.step(msg.round, 'unmasking shares', async () => {
        const reveal = await worker.secureReveal(msg);
        if (!reveal) return;
        await emitWithAck(socket, 'secagg:reveal', reveal);
        this.deps.log(`Round ${msg.round}: ${msg.survivors.length} sites' masked updates are in; this site sent the key shares that unmask their sum, and nothing of any one site.`);
      }),
    );
  }

  /** Step 1, as the round opens: the worker makes the round's keys and the page advertises them. */
  open(socket: ConsiliumSocket, round: RoundOpen & { secureAggregation: SecureRound }): void {
    const studyId = this.deps.studyId();
    if (!studyId) return;
    this.step(round.round, 'keys', async () => {
      const keys = await this.deps.worker.secureOpen(this.deps.token, studyId, round.round, round.secureAggregation);
      await emitWithAck(socket, 'secagg:advertise', keys);
    });
  }

  close(round: number): void {
    const studyId = this.deps.studyId();
    if (studyId) void this.deps.worker.secureClose(studyId, round);
  }

  private step(round: number, what: string, job: () => Promise<void>): void {
    job().catch((e) => {
      this.deps.log(`Round ${round}: this site's ${what} did not reach the secure round (${describe(e)}); it sits this round out.`, 'warn');
      this.deps.onSatOut(round);
    });
  }
}
