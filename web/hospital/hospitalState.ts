import type { BackendName, ParticipantState, Site, StudyStatus, StudySummary } from '../../shared/protocol';
import { emptyOutboxView, type OutboxView } from '../training/outboxPolicy';
import type { BackendProbe, DatasetInfo } from '../training/protocol';
import { initialTabView, type TabView } from './tabElection';

/** What a hospital tab shows: `HospitalSession` keeps it, the page's components read it. */

export interface ActivityEntry {
  id: number;
  at: number;
  tone: 'info' | 'ok' | 'warn' | 'error';
  text: string;
}

export interface EvaluationSummary {
  version: number;
  loss: number;
  accuracy: number;
  numSamples: number;
}

export interface HospitalState {
  /** loading: reading the link, study and local data; ready: can join; failed: cannot go on. */
  phase: 'loading' | 'ready' | 'failed';
  error: string | null;
  site: Site | null;
  demoProfile: string | null;
  studyIds: string[];
  study: StudySummary | null;
  backend: BackendName | null;
  adapter: string | null;
  backendError: string | null;
  /** How the backend was measured and chosen; null when forced (`?backend=`) or not yet measured. */
  backendProbe: BackendProbe | null;
  dataset: DatasetInfo | null;
  datasetError: string | null;
  joined: boolean;
  connected: boolean;
  participantId: string | null;
  /** 'offline' until this tab joins. */
  participantState: ParticipantState;
  round: number | null;
  epoch: number | null;
  epochs: number | null;
  loss: number | null;
  roundsDone: number;
  lastEvaluation: EvaluationSummary | null;
  currentVersion: number | null;
  studyStatus: StudyStatus | null;
  activity: ActivityEntry[];
  /** Updates stored in this site's outbox until the server acknowledges them. */
  outbox: OutboxView;
  /** The latest update the server refused for good (its round closed meanwhile, …), said plainly. */
  outboxNotice: string | null;
  /** This tab among the hospital's tabs in this browser: only the leader connects and trains. */
  tab: TabView;
}

/** A tab before it has read its link, study or data. */
export const initialHospitalState: HospitalState = {
  phase: 'loading',
  error: null,
  site: null,
  demoProfile: null,
  studyIds: [],
  study: null,
  backend: null,
  adapter: null,
  backendError: null,
  backendProbe: null,
  dataset: null,
  datasetError: null,
  joined: false,
  connected: false,
  participantId: null,
  participantState: 'offline',
  round: null,
  epoch: null,
  epochs: null,
  loss: null,
  roundsDone: 0,
  lastEvaluation: null,
  currentVersion: null,
  studyStatus: null,
  activity: [],
  outbox: emptyOutboxView,
  outboxNotice: null,
  tab: initialTabView,
};
