import type { LogLine } from '../../shared/protocol/logView';

/** Lines the view shows at most; older ones scroll off the top. */
export const MAX_SHOWN_LINES = 500;

/**
 * The lines in order of the server's sequence numbers, each once, the newest `max`. Kept lines and
 * live ones can overlap or arrive out of order around a (re)subscription; this puts them right.
 */
export function mergeLines(current: readonly LogLine[], incoming: readonly LogLine[], max = MAX_SHOWN_LINES): LogLine[] {
  if (incoming.length === 0) return current.slice(Math.max(0, current.length - max));
  const last = current.at(-1)?.seq ?? -Infinity;
  // The common case, a live line after the last one: no sort.
  const merged =
    incoming.every((l, i) => l.seq > (i === 0 ? last : incoming[i - 1].seq))
      ? [...current, ...incoming]
      : [...new Map([...current, ...incoming].map((l) => [l.seq, l])).values()].sort((a, b) => a.seq - b.seq);
  return merged.slice(Math.max(0, merged.length - max));
}

/** `14:03:07.215`, in the viewer's time zone. */
export function lineTime(time: number): string {
  const d = new Date(time);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// Shown in their own column or not worth a reader's attention.
const HIDDEN_FIELDS = new Set(['participantId', 'roundId']);
// Read first, in this order, when a line has them.
const FIRST_FIELDS = ['round', 'version', 'contributors', 'reason', 'code'];

function valueText(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') {
    const o = v as { message?: unknown; type?: unknown };
    // An error, as the server keeps it: its type and message.
    if (typeof o.message === 'string') return typeof o.type === 'string' ? `${o.type}: ${o.message}` : o.message;
    return JSON.stringify(v);
  }
  return String(v);
}

/** A line's other fields as `round 3 · version 3 · contributors 2`, the telling ones first. */
export function keyFields(line: LogLine, siteNames: ReadonlyMap<string, string> = new Map()): string {
  const entries = Object.entries(line.fields).filter(([k]) => !HIDDEN_FIELDS.has(k));
  const rank = (k: string) => (FIRST_FIELDS.includes(k) ? FIRST_FIELDS.indexOf(k) : FIRST_FIELDS.length);
  entries.sort(([a], [b]) => rank(a) - rank(b));
  const parts = entries.map(([k, v]) => `${k} ${valueText(v)}`);
  // A line that names its site by id only gets the site's name, when the view knows it.
  if (line.siteId && line.fields.site === undefined) parts.unshift(`site ${siteNames.get(line.siteId) ?? line.siteId}`);
  return parts.join(' · ');
}

/** Whether a scrolled box is at (or within a few pixels of) its bottom, where new lines keep it. */
export function atBottom(box: { scrollTop: number; scrollHeight: number; clientHeight: number }, slack = 8): boolean {
  return box.scrollHeight - box.scrollTop - box.clientHeight <= slack;
}
