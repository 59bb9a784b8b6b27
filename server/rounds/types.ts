import type { Logger } from 'pino';
import type { RoundClosed, RoundOpen } from '../../shared/protocol/schemas';
import type { Clock } from '../clock';
import type { Db } from '../db/client';
import type { rounds, studies } from '../db/schema';
import type { Presence } from '../realtime/presence';

/** What the coordinator tells the outside world; the Socket.IO layer implements it. */
export interface CoordinatorEvents {
  roundOpened(participantIds: string[], round: RoundOpen): void;
  roundClosed(studyId: string, closed: RoundClosed): void;
  changed(studyId: string): void;
  /** An update was refused and its refusal stored (the audit log records it). */
  updateRefused?(refusal: { studyId: string; round: number; participantId: string; code: string; reason: string; bytes: number }): void;
}

export interface CoordinatorDeps {
  db: Db;
  clock: Clock;
  presence: Presence;
  events: CoordinatorEvents;
  log: Logger;
}

export type RoundRow = typeof rounds.$inferSelect;
export type StudyRow = typeof studies.$inferSelect;

export interface SubmitUpdate {
  studyId: string;
  round: number;
  participantId: string;
  idempotencyKey: string;
  body: Uint8Array;
}
