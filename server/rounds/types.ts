import type { Logger } from 'pino';
import type { ServerToClientEvents } from '../../shared/protocol/events';
import type { RoundClosed, RoundOpen } from '../../shared/protocol/schemas';
import type { Clock } from '../clock';
import type { Db } from '../db/client';
import type { RoundMetrics } from '../observability/metrics';
import type { rounds, studies } from '../db/schema';
import type { Presence } from '../realtime/presence';
import type { UploadBody } from './receiver';

/** What the coordinator tells the outside world; the Socket.IO layer implements it. */
export interface CoordinatorEvents {
  /** A round opened for these sites; `own` gives a site its own opening where they differ (a secure round's index). */
  roundOpened(participantIds: string[], round: RoundOpen, own?: (participantId: string) => RoundOpen): void;
  roundClosed(studyId: string, closed: RoundClosed): void;
  changed(studyId: string): void;
  /** One site's own message: a secure round's steps. */
  toParticipant?<E extends 'secagg:keys' | 'secagg:shares' | 'secagg:unmask'>(participantId: string, event: E, payload: Parameters<ServerToClientEvents[E]>[0]): void;
  /** An update was refused and its refusal stored (the audit log records it). */
  /** A site reported another training-record count than before (the audit log records it). */
  recordsReported?(change: { studyId: string; participantId: string; previous: number | null; records: number }): void;
  /** A version's report from a site was flagged as far from the others' (flag set), or no longer is (null). */
  evaluationFlagged?(change: { studyId: string; version: number; participantId: string; flag: string | null }): void;
  /** A differentially private study stopped itself: one more round would have taken ε past its budget. */
  privacyBudgetSpent?(stop: { studyId: string; epsilon: number; next: number; budget: number; delta: number; rounds: number }): void;
  updateRefused?(refusal: { studyId: string; round: number; participantId: string; code: string; reason: string; bytes: number }): void;
}

export interface CoordinatorDeps {
  db: Db;
  clock: Clock;
  presence: Presence;
  events: CoordinatorEvents;
  log: Logger;
  /** Largest update body accepted (bytes). */
  maxUpdateBytes?: number;
  /**
   * Closed rounds whose update payloads are kept, per study, for audits (the latest ones); older
   * payloads are deleted once their version is written. Default 0: deleted at once.
   */
  keepUpdateRounds?: number;
  /** Prometheus counters of uploads and aggregations (../observability/metrics.ts); none when omitted. */
  metrics?: RoundMetrics;
}

export type RoundRow = typeof rounds.$inferSelect;
export type StudyRow = typeof studies.$inferSelect;

export interface SubmitUpdate {
  studyId: string;
  round: number;
  participantId: string;
  idempotencyKey: string;
  /** The upload as it streams in (or whole, from tests and tools). */
  body: UploadBody;
}
