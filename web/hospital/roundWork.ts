import type { RoundClosed, RoundOpen } from '../../shared/protocol';
import { deriveSeed } from '../../shared/synthetic/rng';
import { emitWithAck, type ConsiliumSocket } from '../api/socket';
import { progressCallback, type TrainingWorker } from '../training/client';
import type { OutboxEvent } from '../training/outboxPolicy';
import type { MaskedSent, SplitConfig, TrainProgress, TrainResult } from '../training/protocol';
import { describe, finite } from './describe';
import type { ActivityEntry, HospitalState } from './hospitalState';
import { SecureRelay } from './secureRelay';
import { WorkQueue } from './workQueue';

/** What the round work needs of the hospital session it runs in (./session.ts). */
export interface RoundHost {
  readonly worker: TrainingWorker;
  readonly token: string;
  state(): HospitalState;
  set(patch: Partial<HospitalState>): void;
  log(text: string, tone?: ActivityEntry['tone']): void;
  /** Tells the coordinator where this tab stands now (throttled; nothing before a study is loaded). */
  reportProgress(): void;
  socket(): ConsiliumSocket | null;
  /** The study's split settings, so every part of Consilium holds out the same validation rows. */
  split(): SplitConfig | undefined;
  disposed(): boolean;
  /** Retries the updates waiting in the outbox now. */
  retryOutbox(): void;
}


/**
 * A joined hospital tab's work on the study's rounds: train each round it is sampled for (plainly, or
 * masked under secure aggregation), deliver the update, follow the round's close, and evaluate each
 * new version on the site's validation split, one job at a time. The session owns the connection
 * and the state; this owns what happens between a round's opening and its version's evaluation.
 */
export class RoundWork {
  private readonly work = new WorkQueue();
  private readonly queuedRounds = new Set<number>();
  private readonly closedRounds = new Set<number>();
  private readonly queuedVersions = new Set<number>();
  /** Secure rounds' steps between the worker and the socket. */
  private readonly secure: SecureRelay;
  /** Secure rounds this site takes no part in any more (the coordinator refused a step). */
  private readonly satOut = new Set<number>();
  /** Records behind each secure round's update, trained and waiting for the peers' shares. */
  private readonly maskedSamples = new Map<number, number>();

  constructor(private readonly host: RoundHost) {
    this.secure = new SecureRelay({
      worker: host.worker,
      token: host.token,
      studyId: () => host.state().study?.id,
      log: (text, tone) => host.log(text, tone),
      onMaskedSent: (sent) => this.maskedSent(sent),
      onSatOut: (round) => this.sitOut(round),
    });
  }

  private get s(): HospitalState {
    return this.host.state();
  }

  /** Follows the coordinator's rounds on `socket`. */
  attach(socket: ConsiliumSocket): void {
    socket.on('round:open', (round) => this.onRoundOpen(round));
    socket.on('round:closed', (closed) => this.onRoundClosed(closed));
    this.secure.attach(socket);
  }

  /**
   * A tab that trained in this session but was offline when a round closed never heard of the
   * version that round made: it evaluates the study's current version once it is back.
   */
  evaluateMissedVersion(version: number): void {
    if (this.queuedRounds.size === 0 || version <= 0 || this.queuedVersions.has(version)) return;
    this.queuedVersions.add(version);
    this.host.log(`Version ${version} was made while this tab was away; evaluating it.`);
    this.work.enqueue(() => this.evaluateVersion(version));
  }

  onRoundOpen(round: RoundOpen): void {
    if (round.studyId !== this.s.study?.id || this.queuedRounds.has(round.round)) return;
    // The study's global statistics are fixed before its first round; every round carries them.
    if (round.normalisation && this.s.study && !this.s.study.normalisation)
      this.host.set({ study: { ...this.s.study, normalisation: round.normalisation } });
    this.queuedRounds.add(round.round);
    // The untrained model is measured once, before the first round trains on it: the console's round 0,
    // what every later version is compared with.
    if (round.round === 1 && round.baseVersion === 0 && !this.queuedVersions.has(0)) {
      this.queuedVersions.add(0);
      this.work.enqueue(() => this.evaluateVersion(0));
    }
    const socket = this.host.socket();
    if (round.secureAggregation && socket) {
      // The keys go out now; training runs beside the exchange of key shares.
      this.secure.open(socket, { ...round, secureAggregation: round.secureAggregation });
      this.host.log(`Round ${round.round} opened under secure aggregation: training ${localWorkText(round.training)} from version ${round.baseVersion}; the update leaves this browser masked, and the coordinator learns only the sum of the sites’ updates.`);
    } else this.host.log(`Round ${round.round} opened: training ${localWorkText(round.training)} from version ${round.baseVersion}.`);
    this.work.enqueue(() => this.trainRound(round));
  }

  private onRoundClosed(closed: RoundClosed): void {
    if (closed.studyId !== this.s.study?.id) return;
    this.closedRounds.add(closed.round);
    this.secure.close(closed.round);
    // A secure update still waiting for the peers' shares when its round ended never went in.
    if (this.s.round === closed.round && this.s.participantState === 'uploading' && !this.s.outbox.entries.some((e) => e.round === closed.round))
      this.host.set({ participantState: 'idle' });
    // The server is reachable and the round's fate is sealed: a queued update for it is settled now.
    if (this.s.outbox.entries.some((e) => e.studyId === closed.studyId && e.round === closed.round)) this.host.retryOutbox();
    const version = closed.version;
    this.host.set({
      studyStatus: closed.studyStatus,
      currentVersion: version !== null ? Math.max(this.s.currentVersion ?? 0, version) : this.s.currentVersion,
      study: this.s.study && {
        ...this.s.study,
        status: closed.studyStatus,
        completedRounds: Math.max(this.s.study.completedRounds, closed.status === 'closed' ? closed.round : 0),
        currentVersion: Math.max(this.s.study.currentVersion, version ?? 0),
        // Under differential privacy, what the study has spent with this round.
        privacy: closed.privacy ?? this.s.study.privacy,
      },
    });
    if (version === null) {
      this.host.log(`Round ${closed.round} was abandoned.`, 'warn');
      return;
    }
    this.host.log(`Round ${closed.round} closed with ${closed.contributors} update(s): model version ${version}.`, 'ok');
    // The study evaluates every Nth version only.
    if (closed.evaluate === false || this.queuedVersions.has(version)) return;
    this.queuedVersions.add(version);
    this.work.enqueue(() => this.evaluateVersion(version));
  }

  private async trainRound(round: RoundOpen): Promise<void> {
    const { study, site } = this.s;
    if (!study || !site || this.host.disposed()) return;
    if (this.closedRounds.has(round.round)) {
      this.host.log(`Round ${round.round} closed before this site could train; skipped.`, 'warn');
      return;
    }
    if (this.satOut.has(round.round)) return;
    // Counting steps, the epochs they span depend on this site's records: the worker says how many once it starts.
    this.host.set({ participantState: 'training', round: round.round, epoch: 0, epochs: round.training.localSteps === undefined ? round.training.localEpochs : null, loss: null });
    this.host.reportProgress();
    // Progress comes over its own message port: a last report may arrive after the result, and must
    // not take the tab back from done to training or uploading.
    let settled = false;
    try {
      const result = await this.host.worker.train(
        {
          token: this.host.token,
          studyId: study.id,
          round: round.round,
          baseVersion: round.baseVersion,
          training: round.training,
          seed: deriveSeed(study.config.seed, `${site.id}/round-${round.round}`),
          templateId: study.templateId,
          siteId: site.id,
          split: this.host.split(),
          // Under differential privacy the update is clipped here, before it leaves the browser.
          ...(round.clipNorm !== undefined ? { clipNorm: round.clipNorm } : {}),
          // Under secure aggregation it is clipped, weighed and masked here: only the sum is ever seen.
          ...(round.secureAggregation ? { secure: true } : {}),
        },
        progressCallback((p: TrainProgress) => {
          if (!settled) this.onTrainProgress(p);
        }),
      );
      settled = true;
      const last = finite(result.losses[result.losses.length - 1]);
      this.host.set({ loss: last ?? this.s.loss, epoch: this.s.epochs ?? round.training.localEpochs });
      this.onDelivery(round.round, result.numSamples, result.delivery);
    } catch (e) {
      settled = true;
      this.host.set({ participantState: 'idle' });
      this.host.log(`Round ${round.round} failed: ${describe(e)}`, 'error');
    }
    this.host.reportProgress();
  }

  /** How this tab's own first upload attempt ended; later news about a queued update comes from the outbox. */
  private onDelivery(round: number, numSamples: number, d: TrainResult['delivery']): void {
    if (d.status === 'masked') {
      if (d.sent) this.maskedSent(d.sent, numSamples);
      else if (this.satOut.has(round) || this.closedRounds.has(round)) this.host.set({ participantState: 'idle' });
      else {
        this.maskedSamples.set(round, numSamples);
        this.host.set({ participantState: 'uploading' });
        this.host.log(`Round ${round}: update from ${numSamples} samples trained; it is masked and sent once the other sites' key shares arrive.`);
      }
    } else if (d.status === 'delivered') {
      const r = d.receipt;
      this.host.set({ participantState: 'done', roundsDone: this.s.roundsDone + 1 });
      this.host.log(
        `Round ${round}: update from ${numSamples} samples uploaded${r.duplicate ? ' (already received)' : ''}; ${r.received}/${r.expected} received.`,
        'ok',
      );
    } else if (d.status === 'queued') {
      this.host.set({ participantState: 'uploading' });
      this.host.log(
        d.earlier
          ? `Round ${round}: this site's update already waits in the outbox; it is not trained again.`
          : `Round ${round}: the upload failed (${d.reason}); the update is kept in the outbox and will be retried.`,
        'warn',
      );
    } else {
      this.host.set({ participantState: 'idle', outboxNotice: d.message });
      this.host.log(d.message, 'error');
    }
  }

  private maskedSent(sent: MaskedSent, numSamples = this.maskedSamples.get(sent.round)): void {
    this.maskedSamples.delete(sent.round);
    if (this.s.round === sent.round) this.host.set({ participantState: 'done', roundsDone: this.s.roundsDone + 1 });
    const from = numSamples !== undefined ? ` from ${numSamples} samples` : '';
    this.host.log(`Round ${sent.round}: masked update${from} sent${sent.duplicate ? ' (already received)' : ''}; the coordinator sees only the sum of the sites’ updates.`, 'ok');
    if (this.s.study && this.s.joined) this.host.reportProgress();
  }

  private sitOut(round: number): void {
    this.satOut.add(round);
    this.secure.close(round);
    if (this.s.round === round && this.s.participantState !== 'idle') this.host.set({ participantState: 'idle' });
  }

  onOutboxEvent(e: OutboxEvent): void {
    if (this.host.disposed()) return;
    this.host.set({ outbox: e.view });
    const n = e.notice;
    if (!n) return;
    // The update this tab trained last is the one the participation state is about.
    const current = n.round === this.s.round && this.s.participantState === 'uploading';
    if (n.type === 'delivered') {
      const r = n.receipt;
      if (current) this.host.set({ participantState: 'done', roundsDone: this.s.roundsDone + 1 });
      this.host.log(
        `Round ${n.round}: the update waiting in the outbox was delivered (attempt ${n.attempts}${r.duplicate ? ', already received' : ''}); ${r.received}/${r.expected} received.`,
        'ok',
      );
    } else {
      this.host.set({ outboxNotice: n.message, ...(current ? { participantState: 'idle' as const } : {}) });
      this.host.log(n.message, 'error');
    }
    if (this.s.study && this.s.joined) this.host.reportProgress();
  }

  onTrainProgress(p: TrainProgress): void {
    if (this.host.disposed()) return;
    if (p.phase === 'training') {
      this.host.set({ participantState: 'training', epoch: p.epoch, epochs: p.epochs, loss: finite(p.loss) ?? this.s.loss });
    } else if (p.phase === 'uploading') {
      this.host.set({ participantState: 'uploading' });
      if (p.attempt > 1) this.host.log(`Upload attempt ${p.attempt} for round ${p.round}…`, 'warn');
    }
    this.host.reportProgress();
  }

  private async evaluateVersion(version: number): Promise<void> {
    const { study, site } = this.s;
    if (!study || !site || this.host.disposed()) return;
    const before = this.s.participantState;
    this.host.set({ participantState: 'evaluating' });
    this.host.reportProgress();
    try {
      const m = await this.host.worker.evaluate({
        token: this.host.token,
        studyId: study.id,
        version,
        templateId: study.templateId,
        siteId: site.id,
        split: this.host.split(),
        // Score histograms are not noised, so the privacy guarantee would not cover them: a private study's reports go without.
        histogram: !study.config.privacy,
      });
      if (!Number.isFinite(m.loss)) throw new Error(`validation loss is not finite (${m.loss})`);
      this.host.set({ lastEvaluation: { version, loss: m.loss, accuracy: m.accuracy, numSamples: m.numSamples } });
      this.host.log(`Version ${version} on local validation: accuracy ${(m.accuracy * 100).toFixed(1)}%, loss ${m.loss.toFixed(4)}.`);
      const socket = this.host.socket();
      if (socket) {
        await emitWithAck(socket, 'hospital:evaluation', {
          studyId: study.id,
          version,
          loss: m.loss,
          accuracy: m.accuracy,
          numSamples: m.numSamples,
          backend: m.backend,
          clinical: m.clinical,
        });
      }
    } catch (e) {
      this.host.log(`Evaluating version ${version} failed: ${describe(e)}`, 'error');
    }
    // Back to waiting, unless an upload for a still-open round is what this tab last did.
    const stillDone = before === 'done' && this.s.round !== null && !this.closedRounds.has(this.s.round);
    this.host.set({ participantState: stillDone || this.s.studyStatus === 'completed' ? 'done' : 'idle' });
    this.host.reportProgress();
  }
}

/** A round's local work as the activity log says it: epochs, or optimiser steps when the study counts them. */
export function localWorkText(training: RoundOpen['training']): string {
  return training.localSteps !== undefined ? `${training.localSteps} optimiser step(s)` : `${training.localEpochs} epoch(s)`;
}
