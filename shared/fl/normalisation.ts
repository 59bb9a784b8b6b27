import { z } from 'zod';
import type { Feature, TabularRecord } from '../tasks/spec';

/**
 * What one site contributes when it first joins a study: per numeric feature the count of present
 * values, their sum and sum of squares; per categorical or binary feature the count of each code;
 * per numeric feature the count of present values outside its plausible range (`min`–`max`: kept,
 * but counted). Aggregates only: no row, no per-patient value.
 */
export const siteStatisticsSchema = z.object({
  rows: z.number().int().min(0),
  numeric: z.record(z.string(), z.object({ count: z.number().int().min(0), sum: z.number().finite(), sumSquares: z.number().finite().min(0) })),
  categorical: z.record(z.string(), z.record(z.string(), z.number().int().min(0))),
  /** Optional: statistics stored, or sent by tabs, before values outside the plausible range were counted. */
  flagged: z.record(z.string(), z.number().int().min(0)).optional(),
});
export type SiteStatistics = z.infer<typeof siteStatisticsSchema>;

/** The study-wide statistics every site encodes with, combined from the sites' contributions. */
export const normalisationSchema = z.object({
  sites: z.number().int().min(1),
  rows: z.number().int().min(0),
  numeric: z.record(z.string(), z.object({ count: z.number().int().min(0), mean: z.number().finite(), std: z.number().finite().positive() })),
  /** Most frequent code per categorical or binary feature, used to impute. */
  modes: z.record(z.string(), z.number()),
});
export type Normalisation = z.infer<typeof normalisationSchema>;

/** A site's statistics over its own records (missing values are left out of the sums). */
export function siteStatistics(features: readonly Feature[], records: readonly TabularRecord[]): SiteStatistics {
  return addSiteStatistics(emptySiteStatistics(features), features, records);
}

/** Statistics of no records, to add records to a part at a time. */
export function emptySiteStatistics(features: readonly Feature[]): SiteStatistics {
  const stats: SiteStatistics = { rows: 0, numeric: {}, categorical: {}, flagged: {} };
  for (const f of features) {
    if (f.kind === 'numeric') {
      stats.numeric[f.name] = { count: 0, sum: 0, sumSquares: 0 };
      stats.flagged![f.name] = 0;
    } else stats.categorical[f.name] = {};
  }
  return stats;
}

/**
 * Adds `records` to `stats` (in place) and returns it. Records added part by part, in order, give
 * exactly the sums of one pass over all of them: a site whose records are streamed from storage in
 * chunks reports what it would report holding them all.
 */
export function addSiteStatistics(stats: SiteStatistics, features: readonly Feature[], records: readonly TabularRecord[]): SiteStatistics {
  stats.rows += records.length;
  for (const r of records) {
    for (const f of features) {
      const v = r.values[f.name];
      if (v === null || v === undefined || Number.isNaN(v)) continue;
      if (f.kind === 'numeric') {
        const s = (stats.numeric[f.name] ??= { count: 0, sum: 0, sumSquares: 0 });
        s.count++;
        s.sum += v;
        s.sumSquares += v * v;
        if (v < f.min || v > f.max) {
          const flagged = (stats.flagged ??= {});
          flagged[f.name] = (flagged[f.name] ?? 0) + 1;
        }
      } else {
        const counts = (stats.categorical[f.name] ??= {});
        counts[String(v)] = (counts[String(v)] ?? 0) + 1;
      }
    }
  }
  return stats;
}

/** Add site contributions in the order given (callers sort by participant id for reproducibility). */
export function mergeStatistics(parts: readonly SiteStatistics[]): SiteStatistics {
  const out: SiteStatistics = { rows: 0, numeric: {}, categorical: {} };
  for (const p of parts) {
    out.rows += p.rows;
    for (const [name, s] of Object.entries(p.numeric)) {
      const o = (out.numeric[name] ??= { count: 0, sum: 0, sumSquares: 0 });
      o.count += s.count;
      o.sum += s.sum;
      o.sumSquares += s.sumSquares;
    }
    for (const [name, counts] of Object.entries(p.categorical)) {
      const o = (out.categorical[name] ??= {});
      for (const [code, n] of Object.entries(counts)) o[code] = (o[code] ?? 0) + n;
    }
    for (const [name, n] of Object.entries(p.flagged ?? {})) {
      const o = (out.flagged ??= {});
      o[name] = (o[name] ?? 0) + n;
    }
  }
  return out;
}

/**
 * Global means and (population) standard deviations from the merged sums. A feature no site
 * measured, or one with no spread, keeps the template's reference statistics, so encoding never
 * divides by zero.
 */
export function combineStatistics(features: readonly Feature[], parts: readonly SiteStatistics[]): Normalisation {
  const merged = mergeStatistics(parts);
  const norm: Normalisation = { sites: parts.length, rows: merged.rows, numeric: {}, modes: {} };
  for (const f of features) {
    if (f.kind === 'numeric') {
      const s = merged.numeric[f.name];
      if (!s || s.count < 2) {
        norm.numeric[f.name] = { count: s?.count ?? 0, mean: f.mean, std: f.std };
        continue;
      }
      const mean = s.sum / s.count;
      // E[x²] − E[x]² can dip below zero by rounding when the spread is tiny.
      const variance = Math.max(0, s.sumSquares / s.count - mean * mean);
      const std = Math.sqrt(variance);
      norm.numeric[f.name] = { count: s.count, mean, std: std > 1e-9 * Math.max(1, Math.abs(mean)) ? std : f.std };
    } else {
      const counts = merged.categorical[f.name] ?? {};
      const best = Object.entries(counts).sort((a, b) => b[1] - a[1] || Number(a[0]) - Number(b[0]))[0];
      norm.modes[f.name] = best ? Number(best[0]) : f.mode;
    }
  }
  return norm;
}

/** The template's features with their statistics replaced by the study's global ones. */
export function applyNormalisation(features: readonly Feature[], norm: Normalisation | null | undefined): Feature[] {
  if (!norm) return [...features];
  return features.map((f) => {
    if (f.kind === 'numeric') {
      const n = norm.numeric[f.name];
      return n ? { ...f, mean: n.mean, std: n.std } : f;
    }
    const mode = norm.modes[f.name];
    if (mode === undefined) return f;
    if (f.kind === 'binary') return { ...f, mode: mode === 1 ? 1 : 0 };
    return f.categories.some((c) => c.code === mode) ? { ...f, mode } : f;
  });
}
