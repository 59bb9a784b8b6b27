import { describe, expect, it } from 'vitest';
import { dataQualitySchema } from '../protocol/dataQuality';
import { heartRiskFeatures, heartRiskV2 } from '../tasks/heartRisk';
import type { TabularRecord } from '../tasks/spec';
import { dataQuality, sharePercent } from './dataQuality';
import { mergeStatistics, siteStatistics } from './normalisation';

/** `n` records of the heart template; `values(i)` sets the fields a test cares about. */
function records(n: number, values: (i: number) => Record<string, number | null>): TabularRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: String(i),
    values: { age: 60, sex: 1, cp: 4, trestbps: 130, chol: 240, fbs: 0, restecg: 0, thalach: 150, exang: 0, oldpeak: 1, slope: 2, ca: 0, thal: 3, ...values(i) },
    label: i % 2,
  }));
}

const site = (participantId: string, siteName: string, recs: TabularRecord[]) => ({
  participantId,
  siteId: participantId.replace('p-', ''),
  siteName,
  statistics: siteStatistics(heartRiskFeatures, recs),
});

describe('per-site data quality', () => {
  it('counts missing values per feature, numeric and categorical, and their share of the site’s records', () => {
    // 294 records: serum cholesterol in 9 of them, chest-pain type missing in 3, sex in none.
    const stMarys = site('p-st-marys', 'St Mary’s', records(294, (i) => ({ chol: i < 9 ? 230 : null, cp: i < 3 ? null : 2 })));
    const out = dataQuality(heartRiskFeatures, [stMarys]);
    expect(dataQualitySchema.parse(out)).toEqual(out);
    expect(out.features.map((f) => f.name)).toEqual(heartRiskFeatures.map((f) => f.name));
    expect(out.features.find((f) => f.name === 'chol')?.label).toBe('Serum cholesterol');
    const [s] = out.sites;
    expect(s).toMatchObject({ participantId: 'p-st-marys', siteName: 'St Mary’s', rows: 294 });
    expect(s.features.chol).toEqual({ missing: 285, rate: 285 / 294, flagged: 0 });
    expect(s.features.cp).toEqual({ missing: 3, rate: 3 / 294, flagged: 0 });
    expect(s.features.sex).toEqual({ missing: 0, rate: 0, flagged: 0 });
  });

  it('warns in plain words where a feature is missing from more than half of a site’s records, and only there', () => {
    const stMarys = site('p-st-marys', 'St Mary’s', records(294, (i) => ({ chol: i < 9 ? 230 : null })));
    const half = site('p-half', 'Half General', records(100, (i) => ({ chol: i < 50 ? 230 : null })));
    const none = site('p-none', 'No Chol Clinic', records(40, () => ({ chol: null, ca: null })));
    const out = dataQuality(heartRiskFeatures, [stMarys, half, none]);
    expect(out.warnings.map((w) => [w.siteName, w.feature, w.missing, w.rows])).toEqual([
      ['No Chol Clinic', 'chol', 40, 40],
      ['No Chol Clinic', 'ca', 40, 40],
      ['St Mary’s', 'chol', 285, 294],
    ]);
    expect(out.warnings[2].message).toBe('Serum cholesterol is missing in 97 % of the training records at St Mary’s (285 of 294): imputed, it mostly tells which site a record came from.');
    expect(out.warnings[0].message).toMatch(/^Serum cholesterol is missing in all 40 training records at No Chol Clinic: /);
    // Exactly half is not "mostly": no warning for Half General.
    expect(out.warnings.some((w) => w.siteName === 'Half General')).toBe(false);
  });

  it('says what a missing indicator does with a mostly missing feature (version 2 templates)', () => {
    const stMarys = site('p-st-marys', 'St Mary’s', records(294, (i) => ({ chol: i < 9 ? 230 : null })));
    const out = dataQuality(heartRiskV2.features, [stMarys]);
    expect(out.warnings[0].message).toBe('Serum cholesterol is missing in 97 % of the training records at St Mary’s (285 of 294): its missing indicator mostly tells the model which site a record came from.');
  });

  it('lists sites with a warning first, then by name', () => {
    const rows = [
      site('p-c', 'Charing Cross', records(10, () => ({}))),
      site('p-z', 'Zed Hospital', records(10, () => ({ thal: null }))),
      site('p-a', 'Addenbrooke’s', records(10, () => ({}))),
      site('p-m', 'Mayday', records(10, () => ({ chol: null }))),
    ];
    expect(dataQuality(heartRiskFeatures, rows).sites.map((s) => s.siteName)).toEqual(['Mayday', 'Zed Hospital', 'Addenbrooke’s', 'Charing Cross']);
  });

  it('counts present values outside the plausible range without a warning, and missing ones not at all', () => {
    // Cholesterol plausible 100–600 (possible 30–1500); oldpeak plausible −3 to 7.
    const rows = records(20, (i) => ({ chol: i < 3 ? 750 : i === 3 ? 90 : i === 4 ? null : 240, oldpeak: i === 0 ? -4 : 1 }));
    const stats = siteStatistics(heartRiskFeatures, rows);
    expect(stats.flagged).toMatchObject({ chol: 4, oldpeak: 1, age: 0 });
    const out = dataQuality(heartRiskFeatures, [{ participantId: 'p', siteId: 's', siteName: 'S', statistics: stats }]);
    expect(out.sites[0].features.chol).toEqual({ missing: 1, rate: 0.05, flagged: 4 });
    expect(out.sites[0].features.oldpeak.flagged).toBe(1);
    expect(out.warnings).toEqual([]);
    // Merged statistics add the counts.
    expect(mergeStatistics([stats, stats]).flagged).toMatchObject({ chol: 8, oldpeak: 2 });
  });

  it('reads statistics stored before values out of range were counted, and a site that never counted a feature', () => {
    const old = { rows: 10, numeric: { age: { count: 10, sum: 600, sumSquares: 36_000 } }, categorical: { sex: { '0': 4, '1': 6 } } };
    const out = dataQuality(heartRiskFeatures, [{ participantId: 'p', siteId: 's', siteName: 'Old Tab', statistics: old }]);
    expect(out.sites[0].features.age).toEqual({ missing: 0, rate: 0, flagged: 0 });
    expect(out.sites[0].features.sex).toEqual({ missing: 0, rate: 0, flagged: 0 });
    expect(out.sites[0].features.chol).toEqual({ missing: 10, rate: 1, flagged: 0 });
  });

  it('says nothing of a site with no records', () => {
    const out = dataQuality(heartRiskFeatures, [site('p', 'Empty', [])]);
    expect(out.sites[0].features.chol).toEqual({ missing: 0, rate: 0, flagged: 0 });
    expect(out.warnings).toEqual([]);
    expect(dataQuality(heartRiskFeatures, [])).toEqual({ features: expect.any(Array), sites: [], warnings: [] });
  });
});

describe('sharePercent', () => {
  it('rounds to whole percentages unless rounding would read as none, half or all', () => {
    expect(sharePercent(285 / 294)).toBe('97 %');
    expect(sharePercent(0)).toBe('0 %');
    expect(sharePercent(1)).toBe('100 %');
    expect(sharePercent(0.5)).toBe('50 %');
    expect(sharePercent(0.5004)).toBe('50.1 %');
    expect(sharePercent(0.4996)).toBe('49.9 %');
    expect(sharePercent(0.9996)).toBe('99.9 %');
    expect(sharePercent(0.0004)).toBe('0.1 %');
    expect(sharePercent(0.123)).toBe('12 %');
  });
});
