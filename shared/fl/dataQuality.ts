import type { DataQuality, DataQualityWarning, FeatureQuality, SiteQuality } from '../protocol/dataQuality';
import type { Feature } from '../tasks/spec';
import type { SiteStatistics } from './normalisation';

/**
 * Above this share of a site's records without a value, a feature is "mostly missing" there. Every
 * missing value is imputed with the same study-wide value, so at such a site the feature mostly
 * carries the site's identity, not the patient's: the model can learn the site from it.
 */
export const MOSTLY_MISSING = 0.5;

/** One site's statistics as stored, with who sent them. */
export interface SiteStatisticsRow {
  participantId: string;
  siteId: string;
  siteName: string;
  statistics: SiteStatistics;
}

/** Records with a value of `feature` among a site's statistics (none where the site never counted it). */
function present(stats: SiteStatistics, feature: Feature): number {
  if (feature.kind === 'numeric') return stats.numeric[feature.name]?.count ?? 0;
  return Object.values(stats.categorical[feature.name] ?? {}).reduce((a, b) => a + b, 0);
}

export function featureQuality(stats: SiteStatistics, feature: Feature): FeatureQuality {
  const missing = Math.max(0, stats.rows - present(stats, feature));
  return {
    missing,
    rate: stats.rows > 0 ? missing / stats.rows : 0,
    flagged: feature.kind === 'numeric' ? (stats.flagged?.[feature.name] ?? 0) : 0,
  };
}

/**
 * A share as a whole percentage, except where rounding would say something false: "0 %" of a share
 * above 0, "100 %" of one below 1, "50 %" of one past the warning's threshold get one decimal.
 */
export function sharePercent(rate: number): string {
  const p = rate * 100;
  const whole = Math.round(p);
  if (p === whole || (whole > 0 && whole < 100 && whole !== 50)) return `${whole} %`;
  const tenths = p > whole || whole === 0 ? Math.ceil(p * 10) / 10 : Math.floor(p * 10) / 10;
  return `${tenths.toFixed(1)} %`;
}

function warningText(f: Feature, siteName: string, q: FeatureQuality, rows: number): string {
  const label = f.label;
  const n = (x: number) => x.toLocaleString('en');
  const where =
    q.missing === rows
      ? `in all ${n(rows)} training record${rows === 1 ? '' : 's'} at ${siteName}`
      : `in ${sharePercent(q.rate)} of the training records at ${siteName} (${n(q.missing)} of ${n(rows)})`;
  // With a missing indicator the model sees "not measured"; the indicator then mostly says which site a record came from.
  const effect = f.missingIndicator
    ? 'its missing indicator mostly tells the model which site a record came from'
    : 'imputed, it mostly tells which site a record came from';
  return `${label} is missing ${where}: ${effect}.`;
}

/**
 * Per site and feature: records without a value, their share, and values outside the plausible
 * range; and a warning for each feature missing from most of a site's records. Sites with a warning
 * come first, then by name (then id, so equal names keep one order). Linear in sites × features.
 */
export function dataQuality(features: readonly Feature[], rows: readonly SiteStatisticsRow[]): DataQuality {
  const sites: { site: SiteQuality; warnings: DataQualityWarning[] }[] = rows.map((r) => {
    const site: SiteQuality = { participantId: r.participantId, siteId: r.siteId, siteName: r.siteName, rows: r.statistics.rows, features: {} };
    const warnings: DataQualityWarning[] = [];
    for (const f of features) {
      const q = featureQuality(r.statistics, f);
      site.features[f.name] = q;
      if (q.rate > MOSTLY_MISSING)
        warnings.push({ participantId: r.participantId, siteName: r.siteName, feature: f.name, missing: q.missing, rows: site.rows, rate: q.rate, message: warningText(f, r.siteName, q, site.rows) });
    }
    return { site, warnings };
  });
  sites.sort(
    (a, b) =>
      Number(b.warnings.length > 0) - Number(a.warnings.length > 0) ||
      a.site.siteName.localeCompare(b.site.siteName) ||
      (a.site.participantId < b.site.participantId ? -1 : a.site.participantId > b.site.participantId ? 1 : 0),
  );
  return {
    features: features.map((f) => ({ name: f.name, label: f.label })),
    sites: sites.map((s) => s.site),
    warnings: sites.flatMap((s) => s.warnings),
  };
}
