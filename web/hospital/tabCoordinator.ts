import {
  initialTabView,
  parseTabMessage,
  tabChannelName,
  tabReducer,
  trainerLockName,
  type Mirror,
  type TabEvent,
  type TabMessage,
  type TabView,
} from './tabElection';

/** What the coordinator needs of the Web Locks API (`navigator.locks`). */
export interface TabLocks {
  request(name: string, options: { signal: AbortSignal }, callback: () => Promise<void> | undefined): Promise<unknown>;
}

/** What the coordinator needs of a `BroadcastChannel`. */
export interface TabChannel {
  onmessage: ((ev: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}

export interface TabCoordinatorOptions {
  siteId: string;
  studyId: string;
  /** This tab's place among the hospital's tabs changed: it leads, follows another, or stands by. */
  onView(view: TabView): void;
  /**
   * This tab holds the trainer lock now and should connect and train. `previous` is the training tab
   * it followed (kept after that tab said goodbye), whose place it takes over; null if none.
   */
  onLead(previous: Mirror | null): void;
  /** The training tab's state as the others should see it, for a tab that asks. */
  mirror(): Mirror;
  /** The browser is freezing this training tab (or keeping it in the back/forward cache). */
  onPause(): void;
  /** The frozen (or cached) training tab is back. */
  onResume(): void;
  /** The Web Locks API; `navigator.locks` when absent, null for none (the tab then leads at once). */
  locks?: TabLocks | null;
  /** Opens the tabs' channel; a `BroadcastChannel` when absent. */
  openChannel?: (name: string) => TabChannel;
}

const defaultLocks = (): TabLocks | undefined => (typeof navigator !== 'undefined' ? navigator.locks : undefined);
const defaultChannel = (name: string): TabChannel | null =>
  typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(name);

/**
 * Several tabs of one hospital share the site's IndexedDB, so only one of them trains: the holder of
 * the site's trainer lock (Web Locks) for the study. This owns the lock, the BroadcastChannel over
 * which the training tab mirrors its state to the others, and the training tab's page lifecycle
 * listeners; the election itself is `tabReducer`'s.
 */
export class TabCoordinator {
  /** Tells this tab from the hospital's other tabs in this browser. */
  readonly tabId = typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `tab-${Math.random()}`;
  private view: TabView = initialTabView;
  private channel: TabChannel | null = null;
  private lockRequest: AbortController | null = null;
  private releaseLock: (() => void) | null = null;
  private lastMirror = '';
  /** The training tab this one last followed, kept after it said goodbye: its place is taken over. */
  private followed: Mirror | null = null;
  private closed = false;

  constructor(private readonly options: TabCoordinatorOptions) {}

  /**
   * Joins the hospital's tabs: listens to them, and waits for the trainer lock. When the training tab
   * closes, the browser hands the lock to one of the waiting tabs, which then leads.
   */
  join(): void {
    const { siteId, studyId } = this.options;
    this.openChannel(siteId, studyId);
    this.apply({ type: 'join' });
    const locks = this.options.locks !== undefined ? this.options.locks : defaultLocks();
    if (!locks) {
      this.lead();
      return;
    }
    this.lockRequest = new AbortController();
    this.post({ type: 'hello', from: this.tabId });
    locks
      .request(trainerLockName(siteId, studyId), { signal: this.lockRequest.signal }, () => {
        if (this.closed) return;
        this.lead();
        // Held until this tab goes: closing it (or closing the coordinator) lets the next tab take over.
        return new Promise<void>((resolve) => (this.releaseLock = resolve));
      })
      .catch(() => {
        // Aborted: the coordinator was closed while it waited.
      });
  }

  /** Tells the other tabs the training tab's state, unless it is what they were told last (or `force`). */
  share(mirror: Mirror, force = false): void {
    const text = JSON.stringify(mirror);
    if (!force && text === this.lastMirror) return;
    this.lastMirror = text;
    this.post({ type: 'state', from: this.tabId, mirror });
  }

  /** Leaves: a training tab says goodbye and hands the lock on; a waiting one stops waiting. */
  close(): void {
    if (this.view.role === 'leader') this.post({ type: 'bye', from: this.tabId });
    this.closed = true;
    this.lockRequest?.abort();
    this.releaseLock?.();
    this.channel?.close();
    this.channel = null;
    if (typeof window !== 'undefined') {
      window.removeEventListener('pagehide', this.onPageHide);
      window.removeEventListener('pageshow', this.onPageShow);
      document.removeEventListener('freeze', this.onFreeze);
      document.removeEventListener('resume', this.onResume);
    }
  }

  private lead(): void {
    const followed = this.view.leader ?? this.followed;
    this.apply({ type: 'granted' });
    this.options.onLead(followed);
    if (typeof window !== 'undefined') {
      window.addEventListener('pagehide', this.onPageHide);
      window.addEventListener('pageshow', this.onPageShow);
      document.addEventListener('freeze', this.onFreeze);
      document.addEventListener('resume', this.onResume);
    }
  }

  private apply(e: TabEvent): void {
    const view = tabReducer(this.view, e);
    if (view.leader) this.followed = view.leader;
    if (view === this.view) return;
    this.view = view;
    this.options.onView(view);
  }

  private openChannel(siteId: string, studyId: string): void {
    if (this.channel) return;
    const channel = (this.options.openChannel ?? defaultChannel)(tabChannelName(siteId, studyId));
    if (!channel) return;
    channel.onmessage = (ev: MessageEvent) => {
      const m = parseTabMessage(ev.data);
      if (!m || m.from === this.tabId || this.closed) return;
      if (m.type === 'hello' && this.view.role === 'leader') this.share(this.options.mirror(), true);
      else this.apply({ type: 'message', message: m });
    };
    this.channel = channel;
  }

  private post(m: TabMessage): void {
    try {
      this.channel?.postMessage(m);
    } catch {
      // A closed channel: this tab is going away.
    }
  }

  // ----- page lifecycle: a hidden tab keeps training (the worker is not throttled); a frozen one says so -----

  /** The browser is freezing this tab (or keeping it in the back/forward cache): it will go quiet, and the coordinator should know it is not a crash. */
  private readonly onFreeze = (): void => this.options.onPause();

  private readonly onPageHide = (e: PageTransitionEvent): void => {
    if (e.persisted) this.options.onPause();
    else this.post({ type: 'bye', from: this.tabId });
  };

  private readonly onResume = (): void => this.options.onResume();

  private readonly onPageShow = (e: PageTransitionEvent): void => {
    if (e.persisted) this.options.onResume();
  };
}
