import type { RoundBounds } from '../../shared/fl/bounds';
import { FixedPointSum } from '../../shared/fl/fixedPoint';
import type { StudyConfig } from '../../shared/protocol/schemas';
import type { BlobStore } from '../storage/blobStore';
import { foldInto, type StoredUpdate } from './payloads';
import type { RoundRow } from './types';

/** What intake checks an update of the open round against, held so that it needs no query. */
export interface LedgerRound {
  row: RoundRow;
  sampled: ReadonlySet<string>;
  templateId: string;
  /** The configuration the round runs with. */
  config: StudyConfig;
}

/**
 * An open round as intake sees it, in memory: who has an update accepted or being recorded (so a
 * second one is refused at once, without a query), the idempotency keys in flight, and the round's
 * exact running sum, into which each accepted update is folded as soon as it is durable.
 *
 * The database stays the source of truth: after a restart the ledger is rebuilt from the round's
 * rows and the stored payloads, and, the sum being exact, it holds the same bits as before.
 */
export class RoundLedger {
  /** Participants whose on-time (staleness 0) update is accepted or being recorded. */
  readonly onTime = new Set<string>();
  /** Participants whose late update is accepted or being recorded. */
  readonly late = new Set<string>();
  /** On-time updates whose rows are committed: what the round policy counts. */
  committed = 0;
  /** Idempotency keys of updates being recorded, with the promise of their commit. */
  readonly inFlight = new Map<string, Promise<void>>();
  /** Idempotency keys of the updates recorded in this round, with their senders (a retry is a duplicate). */
  readonly keys = new Map<string, string>();
  /**
   * The training records each sampled site reported when it joined (null: none reported): an
   * update may not declare more samples. Kept current by re-joins (`Coordinator.reported`).
   */
  readonly reported = new Map<string, number | null>();
  /** Null for rules that need every update (median, trimmed mean, Krum): they read the spool at close. */
  readonly sum: FixedPointSum | null;
  private closing = false;
  private folds: Promise<void> = Promise.resolve();
  private foldError: unknown = null;

  constructor(
    readonly round: LedgerRound,
    readonly bounds: RoundBounds,
    lengths: readonly number[],
    meanBased: boolean,
    private readonly blobs: BlobStore,
  ) {
    this.sum = meanBased ? new FixedPointSum(lengths, bounds.scaleBits) : null;
  }

  get roundId(): number {
    return this.round.row.id;
  }

  get closed(): boolean {
    return this.closing;
  }

  /** No update is taken from now on; what is in flight still lands. */
  close(): void {
    this.closing = true;
  }

  /** Queues an accepted update's fold into the sum (one at a time, in the background). */
  fold(update: StoredUpdate): void {
    const sum = this.sum;
    if (!sum) return;
    this.folds = this.folds.then(() =>
      foldInto(sum, this.blobs, update).catch((err) => {
        // A sum that missed an update is useless: the close rebuilds it from the rows.
        this.foldError ??= err;
      }),
    );
  }

  /** Resolves once every update recorded so far is committed and folded; rejects if a fold failed. */
  async settled(): Promise<void> {
    for (;;) {
      const pending = [...this.inFlight.values()];
      await Promise.allSettled(pending);
      await this.folds;
      if (this.inFlight.size === 0) break;
    }
    if (this.foldError) throw this.foldError;
  }
}
