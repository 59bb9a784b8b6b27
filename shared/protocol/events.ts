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
import type { AdvertiseRequest, AdvertisedKeys, RevealRequest, ShareKeysRequest, SharesForYou, UnmaskRequest } from './secagg';
import type { LogBacklog, LogLineEvent, LogSubscribeRequest, LogUnsubscribeRequest } from './logView';

/** Every client-to-server event is answered through its ack with one of these. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: ApiError };
export type AckFn<T> = (res: Ack<T>) => void;

export interface ClientToServerEvents {
  'hospital:join': (req: JoinRequest, ack: AckFn<JoinResult>) => void;
  'hospital:progress': (report: ProgressReport, ack: AckFn<null>) => void;
  'hospital:evaluation': (report: EvaluationReport, ack: AckFn<null>) => void;
  /**
   * A site's aggregate feature statistics, once per site. `accepted`: they count towards the study's
   * normalisation (sent before it was fixed); otherwise they are kept for the admins' view only.
   */
  'hospital:statistics': (report: StatisticsReport, ack: AckFn<{ accepted: boolean }>) => void;
  'admin:watch': (req: { studyId: string }, ack: AckFn<Dashboard>) => void;
  /** Admins only: a study's server log (or the whole server's), the kept last hour first, then `log:line` live. */
  'admin:log:subscribe': (req: LogSubscribeRequest, ack: AckFn<LogBacklog>) => void;
  'admin:log:unsubscribe': (req: LogUnsubscribeRequest, ack: AckFn<null>) => void;
  /** Secure aggregation, step 1: a sampled site's public keys. */
  'secagg:advertise': (req: AdvertiseRequest, ack: AckFn<null>) => void;
  /** Step 2: its Shamir shares, sealed for each peer. */
  'secagg:shares': (req: ShareKeysRequest, ack: AckFn<null>) => void;
  /** Step 4: its shares of the survivors' self-mask seeds and of the dropped sites' mask keys. */
  'secagg:reveal': (req: RevealRequest, ack: AckFn<null>) => void;
}

export interface ServerToClientEvents {
  'round:open': (round: RoundOpen) => void;
  'round:closed': (closed: RoundClosed) => void;
  /** Secure aggregation: the keys of every site that advertised (after step 1). */
  'secagg:keys': (keys: AdvertisedKeys) => void;
  /** The shares sealed for this site (after step 2): now it may send its masked input. */
  'secagg:shares': (shares: SharesForYou) => void;
  /** Whose masked inputs the server holds (after step 3): reveal your shares. */
  'secagg:unmask': (req: UnmaskRequest) => void;
  /** Admins only: the whole dashboard, small enough to resend on every change. */
  'dashboard': (dashboard: Dashboard) => void;
  /** Admins only: a new line of a log they subscribed to. */
  'log:line': (e: LogLineEvent) => void;
}

/** Between server processes sharing one federation (the Socket.IO adapter carries them). */
export interface InterServerEvents {
  /** To the process that coordinates the study: something changed that it should look at. */
  'cluster:poke': (poke: { studyId: string; kind: 'recorded' | 'open' | 'sync' }) => void;
  /** A custom study template was defined: every process registers it from the database. */
  'cluster:template': (templateId: string) => void;
  /** The study changed: every process rebuilds the dashboards its own admins watch. */
  'cluster:changed': (studyId: string) => void;
  /** A question only the study's coordinator can answer (server/rounds/types.ts ClusterAsk); the others answer null. */
  'cluster:ask': (question: { op: string; studyId: string } & Record<string, unknown>, reply: (answer: ClusterAnswer | null) => void) => void;
}

/** The coordinator's answer to `cluster:ask`: its value, or the error it would have given the site. */
export type ClusterAnswer = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string; status: number } };
