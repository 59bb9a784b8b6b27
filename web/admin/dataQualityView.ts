import type { ParticipantView } from '../../shared/protocol';
import type { SiteQuality } from '../../shared/protocol/dataQuality';
import { MOSTLY_MISSING, sharePercent } from '../../shared/fl/dataQuality';

/** Rows (and warnings) shown before "Show all": a study of thousands of sites stays a short page. */
export const FIRST_ROWS = 50;

/**
 * Moves whenever the per-site statistics may have changed: a site enrolled, or a site sending (or
 * sending again) its statistics, which the dashboard reports as each participant's `statisticsAt`.
 */
export function dataQualityRefreshKey(participants: readonly ParticipantView[]): string {
  let sent = 0;
  let latest = '';
  for (const p of participants) {
    if (!p.statisticsAt) continue;
    sent++;
    if (p.statisticsAt > latest) latest = p.statisticsAt;
  }
  return `${participants.length}:${sent}:${latest}`;
}

/** One site's cell for one feature: the share missing, whether that is most of its records, and values out of range. */
export function qualityCell(site: SiteQuality, feature: string): { text: string; mostlyMissing: boolean; none: boolean; flagged: number; title: string } {
  const q = site.features[feature] ?? { missing: 0, rate: 0, flagged: 0 };
  const range = q.flagged > 0 ? `; ${q.flagged.toLocaleString('en')} present value${q.flagged === 1 ? '' : 's'} outside the plausible range (kept)` : '';
  return {
    text: sharePercent(q.rate),
    mostlyMissing: q.rate > MOSTLY_MISSING,
    /** Nothing missing and nothing out of range: shown muted, so the cells that say something stand out. */
    none: q.missing === 0 && q.flagged === 0,
    flagged: q.flagged,
    title: `${q.missing.toLocaleString('en')} of ${site.rows.toLocaleString('en')} training records missing${range}`,
  };
}
