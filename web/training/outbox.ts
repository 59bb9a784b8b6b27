import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { UploadReceipt } from '../../shared/protocol';
import {
  afterAttempt,
  emptyOutboxView,
  FIRST_ATTEMPT_GRACE_MS,
  judgeAttempt,
  planDrain,
  viewOf,
  type AttemptResult,
  type BackoffOptions,
  type OutboxEntry,
  type OutboxEvent,
  type OutboxView,
  type Transition,
  type UploadOutcome,
} from './outboxPolicy';
import { postUpdate } from './transfer';

/**
 * The update outbox: an encoded update is stored in IndexedDB before its first upload attempt and
 * removed only when the server acknowledges it or refuses it for good, so a server outage, a closed
 * tab or a crash does not cost the site its contribution. Retries reuse the update's Idempotency-Key,
 * so the server counts it once however many attempts arrive. The decisions live in outboxPolicy.ts.
 */

export const outboxName = (siteId: string) => `consilium-outbox-${siteId}`;

export interface OutboxStore {
  all(): Promise<OutboxEntry[]>;
  /** Written durably: the entry must survive the tab being closed right after. */
  add(entry: OutboxEntry): Promise<void>;
  /** Replaces an entry that still exists; false when another tab already removed it. */
  update(entry: OutboxEntry): Promise<boolean>;
  remove(id: string): Promise<void>;
}

interface OutboxDb extends DBSchema {
  updates: { key: string; value: OutboxEntry };
}

/** The site's outbox database, separate from its records so neither schema holds the other back. */
export function idbOutboxStore(siteId: string): OutboxStore {
  let db: Promise<IDBPDatabase<OutboxDb>> | null = null;
  const open = () =>
    (db ??= openDB<OutboxDb>(outboxName(siteId), 1, {
      upgrade(d) {
        d.createObjectStore('updates', { keyPath: 'id' });
      },
      blocking() {
        // A newer version of the page wants to upgrade: let it, and reopen on the next call.
        void db?.then((d) => d.close());
        db = null;
      },
    }));
  return {
    async all() {
      return (await open()).getAll('updates');
    },
    async add(entry) {
      const tx = (await open()).transaction('updates', 'readwrite', { durability: 'strict' });
      await Promise.all([tx.store.put(entry), tx.done]);
    },
    async update(entry) {
      const tx = (await open()).transaction('updates', 'readwrite', { durability: 'strict' });
      const exists = (await tx.store.getKey(entry.id)) !== undefined;
      if (exists) await tx.store.put(entry);
      await tx.done;
      return exists;
    },
    async remove(id) {
      const tx = (await open()).transaction('updates', 'readwrite', { durability: 'strict' });
      await Promise.all([tx.store.delete(id), tx.done]);
    },
  };
}

/** For tests and for browsers without IndexedDB: the same behaviour, minus surviving the tab. */
export function memoryOutboxStore(): OutboxStore & { entries: Map<string, OutboxEntry> } {
  const entries = new Map<string, OutboxEntry>();
  const copy = (e: OutboxEntry) => ({ ...e });
  return {
    entries,
    async all() {
      return [...entries.values()].map(copy);
    },
    async add(entry) {
      entries.set(entry.id, copy(entry));
    },
    async update(entry) {
      if (!entries.has(entry.id)) return false;
      entries.set(entry.id, copy(entry));
      return true;
    },
    async remove(id) {
      entries.delete(id);
    },
  };
}

export interface OutboxDeps {
  store: OutboxStore;
  /** One upload attempt; throws ApiRequestError (or anything else) when it fails. */
  send(entry: OutboxEntry, token: string): Promise<UploadReceipt>;
  now?: () => number;
  random?: () => number;
  backoff?: BackoffOptions;
  /** Runs the retry loop while holding the site's lock, so one tab at a time retries (Web Locks). */
  exclusive?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** The site's other tabs: told when this one changed the store, and heard when they did. */
  channel?: { post(): void; listen(fn: () => void): void; close(): void };
  onError?: (e: unknown) => void;
}

export interface NewUpdate {
  /** The Idempotency-Key. */
  id: string;
  studyId: string;
  round: number;
  baseVersion: number;
  body: Uint8Array;
}

/** Longest the retry loop sleeps without looking at the store again (changes by tabs it did not hear of). */
const MAX_SLEEP_MS = 30_000;

export class Outbox {
  private token: string | null = null;
  private readonly listeners = new Set<(e: OutboxEvent) => void>();
  /** Entries with an attempt on the wire from this tab. */
  private readonly sending = new Set<string>();
  private view: OutboxView = emptyOutboxView;
  private draining = false;
  /** Something changed since the retry loop last read the store. */
  private dirty = false;
  private nudged = false;
  private wake: (() => void) | null = null;
  private closed = false;
  private refreshSeq = 0;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly deps: OutboxDeps) {
    this.now = deps.now ?? (() => Date.now());
    this.random = deps.random ?? (() => Math.random());
    deps.channel?.listen(() => {
      void this.refresh();
      this.kick();
    });
  }

  setToken(token: string): void {
    this.token = token;
  }

  /** Streams the outbox to `listener`, starting with its current contents, and resumes pending entries. */
  subscribe(listener: (e: OutboxEvent) => void): () => void {
    this.listeners.add(listener);
    listener({ view: this.view });
    void this.refresh();
    this.nudge();
    return () => this.listeners.delete(listener);
  }

  /** The connection is back (socket reconnected, `online`): every entry that failed before is due now. */
  nudge(): void {
    this.nudged = true;
    this.kick();
  }

  async holds(studyId: string, round: number): Promise<boolean> {
    return (await this.deps.store.all()).some((e) => e.studyId === studyId && e.round === round);
  }

  /**
   * Stores an update, then makes its first attempt. Resolves with how that attempt ended; a
   * transient failure leaves the update queued for the retry loop. Later news about it comes as
   * notices to the subscribers.
   */
  async submit(update: NewUpdate): Promise<UploadOutcome> {
    const now = this.now();
    const entry: OutboxEntry = {
      ...update,
      createdAt: now,
      attempts: 0,
      nextAttemptAt: now + FIRST_ATTEMPT_GRACE_MS,
      lastError: null,
    };
    // Stored before the first attempt: a tab closed mid-upload still delivers it next time.
    await this.deps.store.add(entry);
    this.sending.add(entry.id);
    this.changed();
    const t = await this.attempt(entry);
    if (t.action === 'reschedule') {
      this.kick();
      return { status: 'queued', reason: t.entry.lastError ?? 'the upload failed' };
    }
    const n = t.notice;
    return n.type === 'delivered' ? { status: 'delivered', receipt: n.receipt } : { status: 'discarded', code: n.code, message: n.message };
  }

  close(): void {
    this.closed = true;
    this.wake?.();
    this.listeners.clear();
    this.deps.channel?.close();
  }

  // ----- internals -----

  private async attempt(entry: OutboxEntry): Promise<Transition> {
    this.sending.add(entry.id);
    void this.refresh();
    let result: AttemptResult;
    try {
      if (!this.token) throw new Error('no hospital link token yet');
      result = { ok: true, receipt: await this.deps.send(entry, this.token) };
    } catch (error) {
      result = { ok: false, error };
    }
    const t = afterAttempt(entry, judgeAttempt(result), this.now(), this.random, this.deps.backoff);
    try {
      if (t.action === 'remove') await this.deps.store.remove(entry.id);
      else await this.deps.store.update(t.entry);
    } finally {
      this.sending.delete(entry.id);
      this.changed();
    }
    return t;
  }

  /** The store changed: refresh the view, tell the other tabs, and let the retry loop look again. */
  private changed(): void {
    this.dirty = true;
    this.wake?.();
    this.deps.channel?.post();
    void this.refresh();
  }

  private async refresh(): Promise<void> {
    // Reads may finish out of order; only the latest one started describes the store.
    const seq = ++this.refreshSeq;
    try {
      const entries = await this.deps.store.all();
      if (seq !== this.refreshSeq) return;
      const view = viewOf(entries, this.sending);
      this.view = view;
      this.emit({ view });
    } catch (e) {
      this.deps.onError?.(e);
    }
  }

  private emit(e: OutboxEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.deps.onError?.(err);
      }
    }
  }

  /** Starts the retry loop unless it runs already, in which case it looks at the store again. */
  private kick(): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.draining) {
      this.wake?.();
      return;
    }
    this.draining = true;
    const exclusive = this.deps.exclusive ?? ((fn) => fn());
    exclusive(() => this.loop())
      .catch((e) => {
        this.deps.onError?.(e);
        // An IndexedDB hiccup must not stop delivery for good.
        if (!this.closed) setTimeout(() => this.kick(), 5_000);
      })
      .finally(() => {
        this.draining = false;
      });
  }

  /** Attempts due entries until the store is empty; the lock is held only while there is work. */
  private async loop(): Promise<void> {
    while (!this.closed) {
      this.dirty = false;
      const nudged = this.nudged;
      this.nudged = false;
      const entries = await this.deps.store.all();
      if (entries.length === 0) {
        if (this.dirty) continue;
        return;
      }
      const { due, wakeAt } = planDrain(entries, this.now(), { nudged, busy: this.sending });
      for (const entry of due) {
        if (this.closed) return;
        const t = await this.attempt(entry);
        if (t.action === 'remove') {
          await this.refresh();
          this.emit({ view: this.view, notice: t.notice });
        }
      }
      if (due.length > 0 || this.dirty) continue;
      const delay = wakeAt === null ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, Math.max(0, wakeAt - this.now()));
      await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

// ----- one outbox per site in this worker -----

const outboxes = new Map<string, Outbox>();

function webLock(name: string): (<T>(fn: () => Promise<T>) => Promise<T>) | undefined {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  // Web Locks exist only on secure origins; without them each tab retries its own entries.
  if (!locks) return undefined;
  return <T>(fn: () => Promise<T>) => locks.request(name, () => fn()) as Promise<T>;
}

function siteChannel(name: string): OutboxDeps['channel'] {
  if (typeof BroadcastChannel === 'undefined') return undefined;
  const channel = new BroadcastChannel(name);
  return {
    post: () => channel.postMessage('changed'),
    listen: (fn) => channel.addEventListener('message', () => fn()),
    close: () => channel.close(),
  };
}

/** The site's outbox, created on first use; `token` authenticates its uploads. */
export function siteOutbox(siteId: string, token?: string): Outbox {
  let outbox = outboxes.get(siteId);
  if (!outbox) {
    const name = outboxName(siteId);
    outbox = new Outbox({
      store: typeof indexedDB === 'undefined' ? memoryOutboxStore() : idbOutboxStore(siteId),
      send: (entry, tok) =>
        postUpdate({ token: tok, studyId: entry.studyId, round: entry.round, idempotencyKey: entry.id, body: entry.body }),
      exclusive: webLock(name),
      channel: siteChannel(name),
      onError: (e) => console.warn('[outbox]', e),
    });
    outboxes.set(siteId, outbox);
    if (outboxes.size === 1) globalThis.addEventListener?.('online', () => outboxes.forEach((o) => o.nudge()));
  }
  if (token) outbox.setToken(token);
  return outbox;
}
