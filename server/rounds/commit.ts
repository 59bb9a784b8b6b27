import { and, eq, max } from 'drizzle-orm';
import type { AggregationReport } from '../../shared/fl/report';
import { decodeServerState, encodeServerState, type ServerState } from '../../shared/fl/state';
import type { StudyConfig } from '../../shared/protocol/schemas';
import type { PrivacyStatus } from '../../shared/protocol/privacy';
import type { TaskTemplate } from '../../shared/tasks';
import { decodeWeights } from '../../shared/weights/codec';
import { crashPoint } from '../crashPoints';
import { blobsOf, type Db } from '../db/client';
import { modelVersions, rounds, studies } from '../db/schema';
import { budgetStop, pastBudget } from '../privacy/budget';
import { privacyStatus } from '../privacy/status';
import { encodeModel } from '../studies/service';
import type { CoordinatorDeps, RoundRow } from './types';

/** The model a round trains from and the strategy state stored with it. */
export async function loadBase(db: Db, round: Pick<RoundRow, 'studyId' | 'baseVersion'>): Promise<{ global: Float32Array[]; state: ServerState | null }> {
  const blobs = blobsOf(db);
  const [base] = await db
    .select({ sha256: modelVersions.sha256, serverStateSha256: modelVersions.serverStateSha256 })
    .from(modelVersions)
    .where(and(eq(modelVersions.studyId, round.studyId), eq(modelVersions.version, round.baseVersion)));
  const global = decodeWeights(await blobs.read(base.sha256)).tensors.map((t) => t.data);
  const state = base.serverStateSha256 ? decodeServerState(await blobs.read(base.serverStateSha256)) : null;
  return { global, state };
}

/** What an aggregation made of a round: the new weights, the strategy's state, its report. */
export interface Aggregated {
  weights: Float32Array[];
  state: unknown;
  report: AggregationReport;
}

/** The round's figures as its row keeps them. */
export interface RoundFigures {
  contributors: number;
  totalSamples: number;
  meanTrainLoss: number | null;
}

export interface Committed {
  version: number;
  contributors: number;
  studyStatus: 'running' | 'paused' | 'completed' | 'waiting' | 'stopped';
  evaluate: boolean;
  /** Under differential privacy: what the study has spent with this round. */
  privacy?: PrivacyStatus;
}

/**
 * A round's new version, written: its bytes to the blob store first, durably; then, in one
 * transaction, the version's row, the round closed with its figures and report, and the study's
 * progress (completed, paused, or stopped at its privacy budget). Null when the round was no longer
 * open (another close got there first).
 */
export async function commitVersion(
  deps: CoordinatorDeps,
  round: RoundRow,
  config: StudyConfig,
  template: TaskTemplate,
  reason: string,
  result: Aggregated,
  figures: RoundFigures,
): Promise<Committed | null> {
  const { db, clock } = deps;
  const blobs = blobsOf(db);
  const [{ latest }] = await db.select({ latest: max(modelVersions.version) }).from(modelVersions).where(eq(modelVersions.studyId, round.studyId));
  const version = (latest ?? 0) + 1;
  // The bytes first, durably, then the rows that name them: a crash between leaves an unnamed blob, never a dangling name.
  const weights = await blobs.put(encodeModel(round.studyId, version, result.weights, template));
  const serverState = result.state ? await blobs.put(encodeServerState(result.state as ServerState)) : null;

  const written = await db.transaction(async (tx) => {
    const [locked] = await tx.select().from(rounds).where(eq(rounds.id, round.id)).for('update');
    if (!locked || (locked.status !== 'open' && locked.status !== 'aggregating')) return null;
    const [current] = await tx.select().from(studies).where(eq(studies.id, round.studyId)).for('update');
    // One instant, on the server's clock like the round's other times: the round closes as its version is written.
    const closedAt = new Date(clock.now());
    await tx.insert(modelVersions).values({
      studyId: round.studyId,
      version,
      parentVersion: round.baseVersion,
      roundNumber: round.number,
      sha256: weights.sha256,
      weightsBytes: weights.bytes,
      serverStateSha256: serverState?.sha256 ?? null,
      createdAt: closedAt,
    });
    await tx
      .update(rounds)
      .set({ status: 'closed', closedAt, closeReason: reason, resultVersion: version, ...figures, aggregationReport: result.report })
      .where(eq(rounds.id, round.id));
    const completedRounds = current.completedRounds + 1;
    // A study paused while this round ran stays paused; a private one whose next round would pass its budget stops here.
    const spent = !!current.config.privacy && completedRounds < current.config.rounds && pastBudget(current.config.privacy, round.number + 1);
    const studyStatus = completedRounds >= current.config.rounds ? 'completed' : spent ? 'stopped' : current.status === 'paused' ? 'paused' : 'running';
    await tx.update(studies).set({ currentVersion: version, completedRounds, status: studyStatus }).where(eq(studies.id, current.id));
    crashPoint('aggregation-tx');
    // Sites evaluate every evaluateEvery-th version, and always the study's last.
    const evaluate = studyStatus === 'completed' || studyStatus === 'stopped' || round.number % config.evaluateEvery === 0;
    return { studyStatus, evaluate, spent } as const;
  });
  if (!written) return null;
  if (written.spent && config.privacy) {
    deps.events.privacyBudgetSpent?.(budgetStop(round.studyId, config.privacy, round.number));
    deps.log.warn({ studyId: round.studyId, rounds: round.number }, 'study stopped: one more round would pass its privacy budget');
  }
  return {
    version,
    contributors: figures.contributors,
    studyStatus: written.studyStatus,
    evaluate: written.evaluate,
    privacy: config.privacy ? privacyStatus(config.privacy, round.number) : undefined,
  };
}
