import type { ApiError } from './errors';
import type {
  Dashboard,
  EvaluationReport,
  JoinRequest,
  JoinResult,
  ProgressReport,
  StatisticsReport,
  RoundClosed,
  RoundOpen,
} from './schemas';

/** Every client-to-server event is answered through its ack with one of these. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: ApiError };
export type AckFn<T> = (res: Ack<T>) => void;

export interface ClientToServerEvents {
  'hospital:join': (req: JoinRequest, ack: AckFn<JoinResult>) => void;
  'hospital:progress': (report: ProgressReport, ack: AckFn<null>) => void;
  'hospital:evaluation': (report: EvaluationReport, ack: AckFn<null>) => void;
  /** A site's aggregate feature statistics, before the study's first round. */
  'hospital:statistics': (report: StatisticsReport, ack: AckFn<{ accepted: boolean }>) => void;
  'admin:watch': (req: { studyId: string }, ack: AckFn<Dashboard>) => void;
}

export interface ServerToClientEvents {
  'round:open': (round: RoundOpen) => void;
  'round:closed': (closed: RoundClosed) => void;
  /** Admins only: the whole dashboard, small enough to resend on every change. */
  'dashboard': (dashboard: Dashboard) => void;
}

export interface InterServerEvents {}
