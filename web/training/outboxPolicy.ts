import type { UploadReceipt } from '../../shared/protocol';
import { ApiRequestError } from '../api/http';

/**
 * The outbox's decisions, free of IndexedDB, timers and fetch: what an upload attempt's result means
 * for the stored update, when it is tried next, and what the page says about it.
 */

/** One encoded update waiting to be acknowledged, exactly as stored in the outbox. */
export interface OutboxEntry {
  /** The upload's Idempotency-Key, also the entry's key: every attempt sends the same one. */
  id: string;
  studyId: string;
  /** The round the update was trained for. It is only ever sent to this round. */
  round: number;
  baseVersion: number;
  /** The encoded update, byte for byte what every attempt sends. */
  body: Uint8Array;
  createdAt: number;
  /** Attempts that ended without an answer worth keeping (network failure, 5xx, 408, 429). */
  attempts: number;
  /** When the next attempt is due (epoch ms). */
  nextAttemptAt: number;
  lastError: string | null;
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** 1 s, 2 s, 4 s, … up to 30 s between attempts, each jittered so a hundred sites do not retry in step. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 30_000 };

/**
 * How long the tab that stored an entry has to make its first attempt before another tab of the
 * same site (sharing the outbox) may try it too.
 */
export const FIRST_ATTEMPT_GRACE_MS = 15_000;

/**
 * Delay before the next attempt after `failures` failed ones: exponential, capped, with "equal
 * jitter" (half fixed, half random), so it never collapses to zero and never exceeds the cap.
 */
export function backoffDelay(failures: number, random: () => number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const exponent = Math.max(0, failures - 1);
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(exponent, 30));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
}

export type Verdict =
  | { kind: 'delivered'; receipt: UploadReceipt }
  /** Worth another try: the server was unreachable, overloaded or failed. */
  | { kind: 'retry'; reason: string }
  /** The server's final word: the update will never be accepted, so it is dropped. */
  | { kind: 'discard'; code: string; reason: string };

export type AttemptResult = { ok: true; receipt: UploadReceipt } | { ok: false; error: unknown };

/**
 * Network failures, 5xx, 408 and 429 are transient. Any other 4xx is final: `round_not_open` (the
 * round closed meanwhile), `duplicate_update` (another update of this site already counted) or a
 * refused update, which would be refused again.
 */
export function judgeAttempt(result: AttemptResult): Verdict {
  if (result.ok) return { kind: 'delivered', receipt: result.receipt };
  const e = result.error;
  const reason = e instanceof Error ? e.message : String(e);
  if (e instanceof ApiRequestError) {
    const transient = e.code === 'network' || e.status === 0 || e.status >= 500 || e.status === 408 || e.status === 429;
    return transient ? { kind: 'retry', reason } : { kind: 'discard', code: e.code, reason };
  }
  // Anything else (a body cut short, an unexpected exception) is not the server's verdict on the
  // update: keeping the update costs little, losing it costs the site its contribution.
  return { kind: 'retry', reason };
}

/** What the page is told about an entry it did not start the attempt for (a retry, a resumed entry). */
export type OutboxNotice =
  | { type: 'delivered'; id: string; studyId: string; round: number; receipt: UploadReceipt; attempts: number }
  | { type: 'discarded'; id: string; studyId: string; round: number; code: string; reason: string; message: string };

export type Transition =
  | { action: 'remove'; notice: OutboxNotice }
  | { action: 'reschedule'; entry: OutboxEntry; delayMs: number };

/** The entry's next state after one attempt: delivered or discarded (removed), or tried again later. */
export function afterAttempt(entry: OutboxEntry, verdict: Verdict, now: number, random: () => number, opts?: BackoffOptions): Transition {
  const { id, studyId, round } = entry;
  if (verdict.kind === 'delivered') {
    return { action: 'remove', notice: { type: 'delivered', id, studyId, round, receipt: verdict.receipt, attempts: entry.attempts + 1 } };
  }
  if (verdict.kind === 'discard') {
    return {
      action: 'remove',
      notice: { type: 'discarded', id, studyId, round, code: verdict.code, reason: verdict.reason, message: discardMessage(round, verdict.code, verdict.reason) },
    };
  }
  const attempts = entry.attempts + 1;
  const delayMs = backoffDelay(attempts, random, opts);
  return { action: 'reschedule', delayMs, entry: { ...entry, attempts, nextAttemptAt: now + delayMs, lastError: verdict.reason } };
}

export function discardMessage(round: number, code: string, reason: string): string {
  if (code === 'round_not_open') return `Round ${round} closed before this hospital's update could be delivered; it was discarded.`;
  if (code === 'duplicate_update')
    return `The server already counted another update from this hospital for round ${round}; this copy was discarded.`;
  return `The server refused this hospital's update for round ${round} (${reason}); it was discarded.`;
}

/**
 * Which entries to attempt now, and when to look again. Entries another part of this tab is already
 * sending are skipped; `nudged` (the connection came back) makes every entry that has failed before
 * due at once, while a fresh entry keeps its grace period for the tab that is sending it.
 */
export function planDrain(
  entries: readonly OutboxEntry[],
  now: number,
  opts: { nudged?: boolean; busy?: ReadonlySet<string> } = {},
): { due: OutboxEntry[]; wakeAt: number | null } {
  const due: OutboxEntry[] = [];
  let wakeAt: number | null = null;
  for (const e of entries) {
    if (opts.busy?.has(e.id)) continue;
    if (e.nextAttemptAt <= now || (opts.nudged && e.attempts > 0)) due.push(e);
    else wakeAt = wakeAt === null ? e.nextAttemptAt : Math.min(wakeAt, e.nextAttemptAt);
  }
  due.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  return { due, wakeAt };
}

/** What the hospital page shows about the outbox. */
export interface OutboxView {
  entries: {
    id: string;
    studyId: string;
    round: number;
    attempts: number;
    nextAttemptAt: number;
    lastError: string | null;
    /** An attempt is on the wire right now. */
    sending: boolean;
  }[];
}

export const emptyOutboxView: OutboxView = { entries: [] };

export function viewOf(entries: readonly OutboxEntry[], sending: ReadonlySet<string>): OutboxView {
  return {
    entries: [...entries]
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
      .map((e) => ({
        id: e.id,
        studyId: e.studyId,
        round: e.round,
        attempts: e.attempts,
        nextAttemptAt: e.nextAttemptAt,
        lastError: e.lastError,
        sending: sending.has(e.id),
      })),
  };
}

/** "1 update waiting to be delivered — retrying in 8 s"; null when nothing waits. */
export function outboxStatusLine(view: OutboxView, now: number): string | null {
  const n = view.entries.length;
  if (n === 0) return null;
  const head = `${n} update${n === 1 ? '' : 's'} waiting to be delivered`;
  if (view.entries.some((e) => e.sending)) return `${head} — sending now…`;
  const next = Math.min(...view.entries.map((e) => e.nextAttemptAt));
  const seconds = Math.ceil((next - now) / 1000);
  return seconds > 0 ? `${head} — retrying in ${seconds} s` : `${head} — retrying now…`;
}

/** How the attempt a caller started ended: the update is delivered, kept for later, or dropped for good. */
export type UploadOutcome =
  | { status: 'delivered'; receipt: UploadReceipt }
  /** Kept in the outbox and retried in the background; `earlier` when it was stored by an earlier attempt or tab. */
  | { status: 'queued'; reason: string; earlier?: boolean }
  | { status: 'discarded'; code: string; message: string };

/** What the worker streams to the page: the outbox's contents, and news about entries it did not submit itself. */
export interface OutboxEvent {
  view: OutboxView;
  notice?: OutboxNotice;
}
