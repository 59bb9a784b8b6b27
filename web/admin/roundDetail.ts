import type { RoundDetail, RoundTimeline } from '../../shared/protocol/roundDetail';

/*
 * What the round detail shows, as pure functions of `GET /api/studies/:id/rounds/:round`.
 */

export type TimelineKey = 'opened' | 'firstUpdate' | 'quorum' | 'lastUpdate' | 'aggregationStarted' | 'closed' | 'published';

export interface TimelineStep {
  keys: TimelineKey[];
  /** What happened; moments at the same instant share one step ("aggregated · published v3"). */
  label: string;
  at: number;
  /** Milliseconds after the round opened. */
  offset: number;
  /** Where on a track from opening to the last step (0 to 1). */
  position: number;
}

/**
 * The round's moments in time order, relative to its opening. Moments at the same millisecond (a
 * round's close and its version are written in one transaction) are one step. An abandoned round's
 * close reads "abandoned".
 */
export function timelineSteps(t: RoundTimeline, d: Pick<RoundDetail, 'status' | 'version' | 'needed'>): TimelineStep[] {
  const opened = Date.parse(t.openedAt);
  const moments: { key: TimelineKey; label: string; at: string | null }[] = [
    { key: 'opened', label: 'opened', at: t.openedAt },
    { key: 'firstUpdate', label: 'first update', at: t.firstUpdateAt },
    { key: 'quorum', label: `quorum (${d.needed})`, at: t.quorumAt },
    { key: 'lastUpdate', label: 'last update', at: t.lastUpdateAt },
    { key: 'aggregationStarted', label: 'aggregation began', at: t.aggregationStartedAt },
    { key: 'closed', label: d.status === 'abandoned' ? 'abandoned' : 'aggregated', at: t.closedAt },
    { key: 'published', label: d.version !== null ? `published v${d.version}` : 'published', at: t.publishedAt },
  ];
  const steps: TimelineStep[] = [];
  // Stable sort: moments at one instant keep their natural order.
  const timed = moments
    .filter((m) => m.at !== null)
    .map((m) => ({ ...m, ms: Date.parse(m.at as string) }))
    .sort((a, b) => a.ms - b.ms);
  for (const m of timed) {
    const last = steps.at(-1);
    if (last && last.at === m.ms) {
      last.keys.push(m.key);
      last.label = `${last.label} · ${m.label}`;
    } else steps.push({ keys: [m.key], label: m.label, at: m.ms, offset: m.ms - opened, position: 0 });
  }
  const span = Math.max(1, (steps.at(-1)?.at ?? opened) - opened);
  for (const s of steps) s.position = s.offset / span;
  return steps;
}

/** A time after the round opened: "+0 s", "+850 ms", "+3.2 s", "+1 min 05 s", "+2 h 03 min". */
export function relativeTime(ms: number): string {
  const sign = ms < 0 ? '−' : '+';
  const a = Math.abs(ms);
  if (a < 1) return `${sign}0 s`;
  if (a < 1000) return `${sign}${Math.round(a)} ms`;
  if (a < 10_000) return `${sign}${(a / 1000).toFixed(1)} s`;
  const s = Math.round(a / 1000);
  if (s < 60) return `${sign}${s} s`;
  if (s < 3600) return `${sign}${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${sign}${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Bytes in the units a person reads: "812 B", "1.6 kB", "3.40 MB" (powers of 1000). */
export function byteSize(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${units[u]}`;
}

export type NormStatus = 'within' | 'clipped' | 'refused' | 'passedOver';

export interface NormPoint {
  /** The x-axis category: the site, with "late" or "refused" where it applies, unique per point. */
  name: string;
  siteName: string;
  status: NormStatus;
  /** L2 norm as received (null: a refusal that measured none). */
  norm: number | null;
  /** What entered the aggregate: norm × scale. */
  aggregatedNorm: number | null;
  /** One column per status, so each series draws its own points. */
  within: number | null;
  clipped: number | null;
  refused: number | null;
  passedOver: number | null;
  detail: string;
}

export interface NormChart {
  points: NormPoint[];
  scale: 'linear' | 'log';
  domain: [number, number];
  clipNorm: number | null;
  /** The refusal limit, when it falls within the chart's range (else it is only named). */
  maxNorm: number | null;
  maxNormOffChart: boolean;
}

/** Beyond this ratio between the largest and smallest norm, the axis is logarithmic: a 10^4 outlier must not flatten every honest update to zero. */
export const LOG_SCALE_RATIO = 30;

/**
 * Each update's norm against the round's bound: accepted updates in site order, then the refused
 * uploads. Status: refused, else passed over by Krum, else clipped, else within.
 */
export function normChart(d: RoundDetail): NormChart {
  const points: NormPoint[] = [];
  const used = new Set<string>();
  const unique = (name: string) => {
    let n = name;
    for (let k = 2; used.has(n); k++) n = `${name} (${k})`;
    used.add(n);
    return n;
  };
  for (const u of d.updates) {
    const status: NormStatus = u.selected === false ? 'passedOver' : u.clipped ? 'clipped' : 'within';
    const aggregatedNorm = u.norm === null ? null : u.norm * u.scale;
    const parts = [`norm ${fmt(u.norm)}`];
    if (u.clipped) parts.push(`clipped ×${u.scale.toFixed(3)} to ${fmt(aggregatedNorm)}`);
    if (u.selected === false) parts.push('not selected by Krum');
    points.push({
      name: unique(u.lateBy ? `${u.siteName} (late)` : u.siteName),
      siteName: u.siteName,
      status,
      norm: u.norm,
      aggregatedNorm,
      within: status === 'within' ? u.norm : null,
      clipped: status === 'clipped' ? u.norm : null,
      refused: null,
      passedOver: status === 'passedOver' ? u.norm : null,
      detail: parts.join(', '),
    });
  }
  for (const r of d.refused)
    points.push({
      name: unique(`${r.siteName} (refused)`),
      siteName: r.siteName,
      status: 'refused',
      norm: r.norm,
      aggregatedNorm: null,
      within: null,
      clipped: null,
      refused: r.norm,
      passedOver: null,
      detail: `refused: ${r.code}${r.norm !== null ? `, norm ${fmt(r.norm)}` : ''}`,
    });

  const clipNorm = d.bounds.clipNorm;
  const norms = points.flatMap((p) => (p.norm !== null && p.norm > 0 && Number.isFinite(p.norm) ? [p.norm] : []));
  const core = [...norms, ...(clipNorm !== null ? [clipNorm] : [])];
  const hi0 = core.length ? Math.max(...core) : 1;
  // The refusal limit is drawn when it is near the data (or a refused norm is plotted beside it).
  const maxNorm = d.bounds.maxNorm;
  const showMax = maxNorm !== null && maxNorm <= 3 * hi0;
  const all = showMax ? [...core, maxNorm] : core;
  const hi = all.length ? Math.max(...all) : 1;
  const lo = all.length ? Math.min(...all) : 1;
  const scale = lo > 0 && hi / lo > LOG_SCALE_RATIO ? 'log' : 'linear';
  const domain: [number, number] = scale === 'log' ? [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi))] : [0, niceCeil(hi * 1.1)];
  return { points, scale, domain, clipNorm, maxNorm: showMax ? maxNorm : null, maxNormOffChart: maxNorm !== null && !showMax };
}

/** The smallest of 1, 2, 2.5, 5 × 10^k at or above x: an axis end a person can read. */
export function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x * (1 - 1e-12)) return m * p;
  return 10 * p;
}

/** A norm for people: three significant digits, exponent form far from 1. */
export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return x.toExponential(2);
  return x.toPrecision(3);
}

/** An axis tick: "10,000", "1.5", "0.01"; exponent form beyond 10^5 or below 10^-3. */
export function axisNumber(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(0);
  return Number(v.toPrecision(3)).toLocaleString('en-US', { maximumSignificantDigits: 3 });
}

/** What the round's close reason means, in words. */
export function closeReasonText(reason: string | null): string | null {
  if (reason === null) return null;
  if (reason === 'all_reported') return 'every sampled site reported';
  if (reason === 'deadline_quorum') return 'the deadline passed with a quorum';
  if (reason === 'deadline_no_quorum') return 'the deadline passed without a quorum';
  if (reason === 'none_sampled') return 'no site was sampled (differential privacy): the version is the noise alone';
  if (reason === 'deadline_private') return 'the deadline passed; under differential privacy the round is released with what arrived';
  return reason;
}
