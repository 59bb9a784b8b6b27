import type { BackendName, ProgressReport } from '../../shared/protocol';
import { getMe, getStudy } from '../api/endpoints';
import { ensureTemplate } from '../api/templates';
import { getTemplate } from '../../shared/tasks';
import { isLinkToken, isUnauthenticated } from '../api/http';
import { createSocket, emitWithAck, rateLimitedRetryMs, type ConsiliumSocket } from '../api/socket';
import { progressCallback, startTrainingWorker, type TrainingWorker } from '../training/client';
import type { OutboxEvent } from '../training/outboxPolicy';
import type { BenchmarkArgs, BenchmarkResult, DatasetInfo, TrainProgress } from '../training/protocol';
import { LatestThrottle } from './progressThrottle';
import { describe, finite } from './describe';
import { RoundWork } from './roundWork';
import { TabCoordinator } from './tabCoordinator';
import { initialHospitalState, type ActivityEntry, type HospitalState } from './hospitalState';
import type { Mirror } from './tabElection';


declare global {
  interface Window {
    /** Test hook: the worker's Comlink remote and the latest state. */
    __consilium?: { worker: TrainingWorker; state: HospitalState; session: HospitalSession };
  }
}

/**
 * One hospital tab's participation: its link token, its training worker and its socket. Framework
 * free; React subscribes to it. Heavy work happens in the worker, so every handler here is short.
 */
export class HospitalSession {
  readonly worker: TrainingWorker;
  private readonly terminateWorker: () => void;
  private state: HospitalState = initialHospitalState;
  private readonly listeners = new Set<() => void>();
  private socket: ConsiliumSocket | null = null;
  private readonly progress = new LatestThrottle<ProgressReport>((r) => this.sendProgress(r), 500);
  private activityId = 0;
  private disposed = false;
  /** A join the server refused as too frequent, to be sent again when it said. */
  private joinRetry: ReturnType<typeof setTimeout> | null = null;
  /** This tab among the hospital's other tabs in this browser, once it has joined. */
  private tabs: TabCoordinator | null = null;
  /** The rounds' training, delivery and evaluation. */
  private readonly rounds: RoundWork;

  constructor(
    readonly token: string,
    private readonly forcedBackend?: BackendName,
    /** The link's `?memoryBudgetMb=`, in bytes; the worker's default when absent. */
    private readonly memoryBudgetBytes?: number,
    /** Test hooks from the link: `?perturbBackend=` makes that backend's gradients wrong while measuring. */
    private readonly testHooks: { perturbBackend?: BackendName } = {},
  ) {
    const { remote, terminate } = startTrainingWorker();
    this.worker = remote;
    this.terminateWorker = terminate;
    this.rounds = new RoundWork({
      worker: remote,
      token,
      state: () => this.state,
      set: (patch) => this.set(patch),
      log: (text, tone) => this.log(text, tone),
      reportProgress: () => {
        if (this.state.study) this.progress.push(this.progressReport());
      },
      socket: () => this.socket,
      split: () => this.splitConfig(),
      disposed: () => this.disposed,
      retryOutbox: () => this.retryOutbox(),
    });
    this.publish();
  }

  // ----- store interface for useSyncExternalStore -----

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): HospitalState => this.state;

  private set(patch: Partial<HospitalState>): void {
    if (this.disposed) return;
    this.state = { ...this.state, ...patch };
    this.publish();
  }

  private publish(): void {
    if (typeof window !== 'undefined') window.__consilium = { worker: this.worker, state: this.state, session: this };
    for (const l of this.listeners) l();
    if (this.state.tab.role === 'leader') this.tabs?.share(this.mirror());
  }

  private log(text: string, tone: ActivityEntry['tone'] = 'info'): void {
    const entry: ActivityEntry = { id: ++this.activityId, at: Date.now(), tone, text };
    this.set({ activity: [entry, ...this.state.activity].slice(0, 40) });
  }

  // ----- start-up -----

  async start(): Promise<void> {
    const backend = this.worker
      .init({ backend: this.forcedBackend, memoryBudgetBytes: this.memoryBudgetBytes, perturbBackend: this.testHooks.perturbBackend })
      .then((r) => {
        this.set({ backend: r.backend, adapter: r.adapter ?? null, ...(r.probe ? { backendProbe: r.probe } : {}) });
        this.log(`Training backend: ${r.backend}${r.adapter ? ` on ${r.adapter}` : ''}.`);
      })
      .catch((e) => {
        this.set({ backendError: describe(e) });
        this.log(`No training backend: ${describe(e)}`, 'error');
      });

    try {
      const me = await getMe(this.token);
      if (me.role !== 'hospital') throw new Error('This page needs a hospital link, not an admin session.');
      this.set({ site: me.site, demoProfile: me.demoProfile, studyIds: me.studyIds });
      this.watchOutbox(me.site.id);
      if (me.studyIds.length === 0) {
        this.set({ phase: 'ready' });
        this.log('This site is not enrolled in any study yet.', 'warn');
        return;
      }
      await this.loadStudy(me.studyIds[0]);
    } catch (e) {
      this.set({ phase: 'failed', error: isUnauthenticated(e) ? this.refusalText(e) : describe(e) });
      return;
    }
    await backend;
    if (this.state.phase === 'loading') this.set({ phase: 'ready' });
  }

  /** Loads a study and the site's data for its template; only before joining. */
  async loadStudy(studyId: string): Promise<void> {
    if (this.state.joined) return;
    const study = await getStudy(studyId, this.token);
    // A study of a console-defined template: the page and the worker register it before anything asks for it.
    if (!getTemplate(study.templateId)) await this.worker.registerTemplate(await ensureTemplate(study.templateId, this.token));
    this.set({ study, currentVersion: study.currentVersion, studyStatus: study.status });
    this.backendFor(study.templateId);
    await this.loadDataset(study.templateId);
  }

  /** The worker keeps its backend if it can train the study's model (a CNN never trains on WASM), else picks another. */
  private backendFor(templateId: string): void {
    this.worker.init({ backend: this.forcedBackend, templateId }).then(
      (r) => {
        if (r.probe) this.set({ backendProbe: r.probe });
        if (r.backend === this.state.backend) return;
        this.set({ backend: r.backend, adapter: r.adapter ?? null, backendError: null });
        this.log(`Training backend for this study: ${r.backend}${r.adapter ? ` on ${r.adapter}` : ''} (${r.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}).`);
      },
      (e) => {
        this.set({ backend: null, backendError: describe(e) });
        this.log(`No training backend for this study: ${describe(e)}`, 'error');
      },
    );
  }

  private async loadDataset(templateId: string): Promise<void> {
    const site = this.state.site!;
    const split = this.splitConfig();
    try {
      const dataset = this.state.demoProfile
        ? await this.worker.ensureDemoDataset(site.id, this.state.demoProfile, templateId, split)
        : await this.worker.datasetInfo(site.id, templateId, split);
      this.set({ dataset, datasetError: null });
      if (dataset.records === 0) this.log('No local records: this site has nothing to train on yet.', 'warn');
      else {
        const streamed = dataset.streaming ? `; larger than the memory budget, streamed from IndexedDB in ${dataset.streaming.blocks} ${dataset.streaming.blocks === 1 ? 'block' : 'blocks'}` : '';
        this.log(`Local dataset ready: ${dataset.records} records (${dataset.train} train, ${dataset.validation} validation${streamed}).`);
      }
    } catch (e) {
      this.set({ datasetError: describe(e) });
      this.log(`Local dataset unavailable: ${describe(e)}`, 'error');
    }
  }

  /** The study's split settings, so every part of Consilium holds out the same validation rows. */
  private splitConfig() {
    const study = this.state.study;
    return study
      ? { validationFraction: study.config.validationFraction, seed: study.config.seed, normalisation: study.normalisation }
      : undefined;
  }

  get canJoin(): boolean {
    const s = this.state;
    return s.phase === 'ready' && !s.joined && !!s.study && !!s.backend && (s.dataset?.train ?? 0) > 0;
  }

  // ----- local data: imports and the dataset list (web/hospital/import, web/hospital/datasets) -----

  /** The study's split settings, for the dataset views. */
  get split() {
    return this.splitConfig();
  }

  /** The active dataset changed (an import, a switch, a deletion): show it, and join with it. */
  datasetChanged(dataset: DatasetInfo, message?: string): void {
    const recount = dataset.train !== this.state.dataset?.train;
    const other = dataset.fingerprint !== this.state.dataset?.fingerprint;
    this.set({ dataset, datasetError: null });
    if (message) this.log(message, 'ok');
    // The server weighs and checks this site's updates by the records it reported: report the new count;
    // and other data needs its statistics sent again (the join says so).
    if ((recount || other) && this.state.joined && this.socket?.connected) void this.announce();
  }

  // ----- participation -----

  /**
   * Joins for this tab. Tabs of one browser profile share the site's IndexedDB, so only one of them
   * trains: the one holding the site's trainer lock (Web Locks). The others stand by, show its state
   * and wait for the lock; when the training tab closes, the browser hands the lock to one of them,
   * which connects and trains (or delivers from the shared outbox) whatever round is still open.
   */
  join(): void {
    if (!this.canJoin) return;
    this.set({ joined: true, participantState: 'idle' });
    this.tabs = new TabCoordinator({
      siteId: this.state.site!.id,
      studyId: this.state.study!.id,
      onView: (tab) => this.set({ tab }),
      onLead: (previous) => this.lead(previous),
      mirror: () => this.mirror(),
      onPause: () => this.sayPaused(),
      onResume: () => this.sayBack(),
    });
    this.tabs.join();
  }

  /** This tab holds the trainer lock: it connects and trains, taking over from `previous` if it followed one. */
  private lead(previous: Mirror | null): void {
    if (previous) {
      this.set({ roundsDone: Math.max(this.state.roundsDone, previous.roundsDone) });
      this.log('The training tab of this hospital closed: this tab takes over.', 'warn');
    }
    this.connect();
  }

  private connect(): void {
    if (this.socket) return;
    const socket = createSocket({ token: this.token });
    this.socket = socket;
    let outageLogged = false;
    socket.on('connect', () => {
      outageLogged = false;
      this.set({ connected: true });
      this.retryOutbox();
      void this.announce();
    });
    socket.on('disconnect', (reason) => {
      this.set({ connected: false });
      // The server let this tab go (its link revoked or expired, its site suspended): say why, if that is it.
      if (reason === 'io server disconnect') void this.recheck();
      else this.log(`Disconnected from the coordinator (${reason}); reconnecting…`, 'warn');
    });
    socket.on('connect_error', (err) => {
      // The server refusing the token stops Socket.IO's retries; a network failure does not.
      const refusal = (err as Error & { data?: { message?: unknown } }).data?.message;
      if (!socket.active && typeof refusal === 'string') this.refuse(this.refusalText(new Error(refusal)));
      else if (!socket.active) this.log(`The coordinator refused this tab: ${err.message}`, 'error');
      else if (!outageLogged) this.log(`Cannot reach the coordinator (${err.message}); retrying…`, 'warn');
      outageLogged = true;
    });
    this.rounds.attach(socket);
  }

  /** What a refused sign-in says: the server's reason for a link (expired, revoked…), else a plain hint. */
  private refusalText(e: unknown): string {
    const reason = e instanceof Error ? e.message : '';
    if (isLinkToken(this.token) && /sign-in link|suspended/.test(reason)) return `${reason.charAt(0).toUpperCase()}${reason.slice(1)}.`;
    return isLinkToken(this.token)
      ? 'This hospital link is not valid or has expired. Ask your site admin or the study coordinator for a new one.'
      : 'Your session has ended: sign in again.';
  }

  /** The server disconnected this tab: if its sign-in no longer holds, the page says so and stops. */
  private async recheck(): Promise<void> {
    try {
      await getMe(this.token);
      this.log('The coordinator disconnected this tab.', 'warn');
    } catch (e) {
      if (isUnauthenticated(e)) this.refuse(this.refusalText(e));
      else this.log(`Disconnected from the coordinator (${describe(e)}).`, 'warn');
    }
  }

  /** This tab's sign-in is refused for good: stop talking to the coordinator and show why. */
  private refuse(message: string): void {
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
    this.set({ phase: 'failed', error: message, connected: false });
  }

  // ----- the hospital's other tabs (web/hospital/tabCoordinator) -----

  /** What the hospital's other tabs show of this one while it trains. */
  private mirror(): Mirror {
    const s = this.state;
    return {
      participantState: s.participantState,
      connected: s.connected,
      backend: s.backend,
      round: s.round,
      epoch: s.epoch,
      epochs: s.epochs,
      loss: finite(s.loss) ?? null,
      roundsDone: s.roundsDone,
      currentVersion: s.currentVersion,
      studyStatus: s.studyStatus,
    };
  }

  /** The browser is freezing this training tab: it will go quiet, and the coordinator should know it is not a crash. */
  private sayPaused(): void {
    if (!this.state.study || !this.state.joined) return;
    this.progress.cancel();
    this.sendProgress({ ...this.progressReport(), state: 'suspended' });
  }

  private sayBack(): void {
    if (this.state.study && this.state.joined) this.progress.push(this.progressReport());
  }

  /** Joins (again, after every reconnect) and picks up a round that is already open for this site. */
  private async announce(): Promise<void> {
    const { study, dataset, backend } = this.state;
    if (this.joinRetry) clearTimeout(this.joinRetry);
    this.joinRetry = null;
    if (!this.socket || !study) return;
    try {
      const res = await emitWithAck(this.socket, 'hospital:join', {
        studyId: study.id,
        numSamples: dataset?.train,
        backend: backend ?? undefined,
        datasetFingerprint: dataset?.fingerprint ?? undefined,
      });
      this.set({
        participantId: res.participantId,
        study: res.study,
        currentVersion: Math.max(this.state.currentVersion ?? 0, res.study.currentVersion),
        studyStatus: res.study.status,
      });
      this.log(`Joined "${res.study.name}" as ${res.site.name}.`, 'ok');
      this.progress.push(this.progressReport());
      if (res.statisticsNeeded) await this.contributeStatistics(res.study.id, res.study.templateId, res.study.normalisation !== null);
      if (res.openRound) this.rounds.onRoundOpen(res.openRound);
      this.rounds.evaluateMissedVersion(res.study.currentVersion);
    } catch (e) {
      const retryMs = rateLimitedRetryMs(e);
      if (retryMs !== null && !this.disposed) {
        // A reconnect in between joins on its own (and clears this); else the join is sent again once allowed.
        this.log(`The coordinator asks this tab to slow down; joining again in ${Math.ceil(retryMs / 1000)} s.`, 'warn');
        this.joinRetry = setTimeout(() => {
          this.joinRetry = null;
          if (this.socket?.connected) void this.announce();
        }, retryMs);
        return;
      }
      this.log(`Joining failed: ${describe(e)}`, 'error');
    }
  }


  /**
   * Each site sends the aggregate statistics of its training split once: counts, sums and sums of
   * squares, never a row. Before the first round the study combines them into its normalisation;
   * after it is fixed they only show the study's admins how complete each site's data is, so a
   * failure then does not hold up the join.
   */
  private async contributeStatistics(studyId: string, templateId: string, normalisationFixed: boolean): Promise<void> {
    if (!this.socket) return;
    try {
      const statistics = await this.worker.localStatistics(this.state.site!.id, templateId, this.splitConfig());
      const fingerprint = this.state.dataset?.fingerprint;
      const res = await emitWithAck(this.socket, 'hospital:statistics', { studyId, statistics, ...(fingerprint ? { datasetFingerprint: fingerprint } : {}) });
      const sent = `Sent aggregate feature statistics of ${statistics.rows} training records`;
      this.log(res.accepted ? `${sent} for the study's normalisation.` : `${sent}: the study's normalisation was already fixed, so they only show its admins how complete this site's data is.`);
    } catch (e) {
      if (!normalisationFixed) throw e;
      this.log(`Could not send this site's feature statistics: ${describe(e)}`, 'warn');
    }
  }

  // ----- outbox -----

  private watchOutbox(siteId: string): void {
    void this.worker.watchOutbox(siteId, this.token, progressCallback((e: OutboxEvent) => this.rounds.onOutboxEvent(e)));
    if (typeof window !== 'undefined') window.addEventListener('online', this.retryOutbox);
  }

  /** The connection is back (socket reconnected, browser online): waiting updates are retried now. */
  private readonly retryOutbox = (): void => {
    const siteId = this.state.site?.id;
    if (siteId && !this.disposed) void this.worker.retryOutbox(siteId);
  };




  private progressReport(): ProgressReport {
    const s = this.state;
    return {
      studyId: s.study!.id,
      // The dashboard's verdict is never this tab's to report.
      state: s.participantState === 'straggler' ? 'idle' : s.participantState,
      ...(s.round !== null ? { round: s.round } : {}),
      ...(s.epoch !== null ? { epoch: s.epoch } : {}),
      ...(s.epochs !== null ? { epochs: s.epochs } : {}),
      // Under record-level DP-SGD the training loss is a statistic of the records outside the
      // accountant: it stays on this page.
      ...(finite(s.loss) !== undefined && !s.study!.config.recordPrivacy ? { loss: s.loss! } : {}),
      ...(s.backend ? { backend: s.backend } : {}),
    };
  }

  private sendProgress(report: ProgressReport): void {
    if (!this.socket?.connected) return;
    emitWithAck(this.socket, 'hospital:progress', report).catch(() => {
      // Progress is advisory; the next report supersedes a lost one.
    });
  }

  /**
   * For `npm run bench:browser`: times one local round on this site's data (nothing is uploaded),
   * its progress shown on the page as a round's is, so the page's main-thread cost is measured too.
   */
  async benchmarkRound(args: BenchmarkArgs): Promise<BenchmarkResult> {
    const before = this.state.participantState;
    try {
      return await this.worker.benchmark(
        args,
        progressCallback((p: TrainProgress) => this.rounds.onTrainProgress(p)),
      );
    } finally {
      this.set({ participantState: before });
    }
  }

  dispose(): void {
    this.tabs?.close();
    this.disposed = true;
    this.progress.cancel();
    if (this.joinRetry) clearTimeout(this.joinRetry);
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
    if (typeof window !== 'undefined') window.removeEventListener('online', this.retryOutbox);
    this.terminateWorker();
    this.listeners.clear();
    if (typeof window !== 'undefined' && window.__consilium?.session === this) delete window.__consilium;
  }
}
