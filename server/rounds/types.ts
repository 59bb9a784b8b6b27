import type { Logger } from 'pino';
import type { ServerToClientEvents } from '../../shared/protocol/events';
import type { RoundClosed, RoundOpen } from '../../shared/protocol/schemas';
import type { AdvertiseRequest, RevealRequest, ShareKeysRequest } from '../../shared/protocol/secagg';
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

/** What one process says to the process that coordinates a study (../cluster/): look again. */
export interface ClusterPoke {
  studyId: string;
  /** `recorded`: an update went into the round; `open`: a site joined or sent statistics; `sync`: a round ended here (an admin's stop). */
  kind: 'recorded' | 'open' | 'sync';
}

/**
 * A question for the process that coordinates the study, answered from its memory: secure
 * aggregation's steps, whose keys and masked inputs live only there.
 */
export type ClusterAsk =
  | { op: 'advertise'; studyId: string; participantId: string; req: AdvertiseRequest }
  | { op: 'shares'; studyId: string; participantId: string; req: ShareKeysRequest }
  | { op: 'reveal'; studyId: string; participantId: string; req: RevealRequest }
  | { op: 'masked'; studyId: string; participantId: string; round: number; body: Uint8Array }
  | { op: 'pending'; studyId: string; participantId: string };

/** Several processes on one database: which studies this one coordinates, and how to reach the one that does. */
export interface Leadership {
  leads(studyId: string): boolean;
  poke(poke: ClusterPoke): void;
  /** Asks the study's coordinator and resolves with its answer; refuses (503) when no process coordinates it now. */
  ask(question: ClusterAsk): Promise<unknown>;
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
  /** One of several processes (../cluster/): this one acts only for the studies it leads. Omitted: every study. */
  leadership?: Leadership;
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
