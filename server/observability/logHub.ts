import { logLevelNames, type LogLevelName, type LogLine } from '../../shared/protocol/logView';
import { systemClock, type Clock } from '../clock';

export interface LogHubOptions {
  /** Lines older than this are dropped (default an hour). */
  maxAgeMs?: number;
  /** At most this many lines are kept, newest first (default 10,000). */
  maxLines?: number;
  /** Longest message or field value kept (characters); longer ones are cut (default 2,000). */
  maxValueChars?: number;
  clock?: Clock;
}

export interface LogFilter {
  /** Only lines that name this study. */
  studyId?: string;
  /** Only lines at this level or above. */
  minLevel?: LogLevelName;
}

const LEVEL_OF_NUMBER: Record<number, LogLevelName> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const rank = (level: LogLevelName) => logLevelNames.indexOf(level);
// pino's own keys, and the ones a line's place in the view is made of.
const OWN_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v', 'studyId', 'siteId']);

export function passes(line: LogLine, filter: LogFilter): boolean {
  if (filter.studyId !== undefined && line.studyId !== filter.studyId) return false;
  return filter.minLevel === undefined || rank(line.level) >= rank(filter.minLevel);
}

function cut(value: unknown, max: number): unknown {
  if (typeof value === 'string') return value.length > max ? `${value.slice(0, max)}…` : value;
  if (value === null || typeof value !== 'object') return value;
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}…` : value;
}

/**
 * The server's log, kept for the admin console: a pino destination (`write` takes its JSON lines)
 * that keeps the last hour, at most `maxLines` lines, in a ring buffer and hands each new line to its
 * subscribers. Lines arrive already redacted (server/observability/logRedaction.ts).
 */
export class LogHub {
  readonly maxAgeMs: number;
  readonly maxLines: number;
  private readonly maxValueChars: number;
  private readonly clock: Clock;
  private readonly ring: (LogLine | undefined)[];
  private start = 0;
  private count = 0;
  private seq = 0;
  private readonly listeners = new Set<(line: LogLine) => void>();

  constructor(opts: LogHubOptions = {}) {
    this.maxAgeMs = opts.maxAgeMs ?? 3_600_000;
    this.maxLines = Math.max(1, opts.maxLines ?? 10_000);
    this.maxValueChars = opts.maxValueChars ?? 2_000;
    this.clock = opts.clock ?? systemClock;
    this.ring = new Array(this.maxLines);
  }

  /** pino's destination interface: one or more JSON lines. A line that is not JSON is kept as its text. */
  write(chunk: string | Uint8Array): boolean {
    for (const text of String(chunk).split('\n')) if (text.trim()) this.add(this.parse(text));
    return true;
  }

  /** Calls `fn` with every line from now on; returns the function that stops it. */
  subscribe(fn: (line: LogLine) => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  /** The kept lines (younger than `maxAgeMs`) that pass `filter`, oldest first. */
  recent(filter: LogFilter = {}): LogLine[] {
    this.evictOld();
    const out: LogLine[] = [];
    for (let i = 0; i < this.count; i++) {
      const line = this.ring[(this.start + i) % this.maxLines]!;
      if (passes(line, filter)) out.push(line);
    }
    return out;
  }

  /** How many subscribers are listening (live views, for tests and the curious). */
  get subscribers(): number {
    return this.listeners.size;
  }

  get size(): number {
    this.evictOld();
    return this.count;
  }

  private parse(text: string): LogLine {
    const seq = ++this.seq;
    let raw: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      raw = parsed as Record<string, unknown>;
    } catch {
      return { seq, time: this.clock.now(), level: 'info', msg: String(cut(text, this.maxValueChars)), fields: {} };
    }
    const fields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (OWN_KEYS.has(key)) continue;
      // An error's stack is for stdout; the view keeps what a person reads: its type and message.
      fields[key] = key === 'err' && value && typeof value === 'object' ? errorSummary(value as Record<string, unknown>) : cut(value, this.maxValueChars);
    }
    const line: LogLine = {
      seq,
      time: typeof raw.time === 'number' ? raw.time : this.clock.now(),
      level: LEVEL_OF_NUMBER[raw.level as number] ?? (logLevelNames.includes(raw.level as LogLevelName) ? (raw.level as LogLevelName) : 'info'),
      msg: typeof raw.msg === 'string' ? String(cut(raw.msg, this.maxValueChars)) : '',
      fields,
    };
    if (typeof raw.studyId === 'string') line.studyId = raw.studyId;
    if (typeof raw.siteId === 'string') line.siteId = raw.siteId;
    return line;
  }

  private add(line: LogLine) {
    if (this.count === this.maxLines) {
      this.ring[this.start] = undefined;
      this.start = (this.start + 1) % this.maxLines;
      this.count--;
    }
    this.ring[(this.start + this.count) % this.maxLines] = line;
    this.count++;
    this.evictOld();
    for (const fn of this.listeners) {
      try {
        fn(line);
      } catch {
        // A subscriber's failure must not reach the code that logged.
      }
    }
  }

  /** Drops lines older than `maxAgeMs`, oldest first (lines arrive in time order). */
  private evictOld() {
    const oldest = this.clock.now() - this.maxAgeMs;
    while (this.count > 0 && this.ring[this.start]!.time < oldest) {
      this.ring[this.start] = undefined;
      this.start = (this.start + 1) % this.maxLines;
      this.count--;
    }
  }
}

function errorSummary(err: Record<string, unknown>): { type?: unknown; message?: unknown; code?: unknown } {
  const out: { type?: unknown; message?: unknown; code?: unknown } = {};
  if (err.type !== undefined) out.type = err.type;
  if (err.message !== undefined) out.message = err.message;
  if (err.code !== undefined) out.code = err.code;
  return out;
}
