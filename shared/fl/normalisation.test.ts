import { describe, expect, it } from 'vitest';
import { demoHospitals, generateHeartRecords } from '../synthetic/heart';
import { encodeRecords } from '../tasks/encoding';
import { heartRisk, heartRiskFeatures } from '../tasks/heartRisk';
import type { TabularRecord } from '../tasks/spec';
import { addSiteStatistics, applyNormalisation, combineStatistics, emptySiteStatistics, mergeStatistics, siteStatistics } from './normalisation';

const sites = demoHospitals.map((h) => generateHeartRecords(h));
const pooled = sites.flat();

/** Two-pass mean and population standard deviation over the present values: the reference. */
function pooledMoments(records: TabularRecord[], name: string) {
  const xs = records.map((r) => r.values[name]).filter((v): v is number => v !== null && v !== undefined);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  return { count: xs.length, mean, std: Math.sqrt(variance) };
}

describe('federated normalisation', () => {
  it('combines per-site sums into the statistics of the pooled data', () => {
    const norm = combineStatistics(heartRiskFeatures, sites.map((s) => siteStatistics(heartRiskFeatures, s)));
    expect(norm.sites).toBe(3);
    expect(norm.rows).toBe(pooled.length);
    for (const f of heartRiskFeatures) {
      if (f.kind !== 'numeric') continue;
      const ref = pooledMoments(pooled, f.name);
      expect(norm.numeric[f.name].count).toBe(ref.count);
      expect(norm.numeric[f.name].mean).toBeCloseTo(ref.mean, 9);
      expect(norm.numeric[f.name].std).toBeCloseTo(ref.std, 7);
    }
  });

  it('takes the pooled mode of categorical features, whatever each site’s own mode', () => {
    const norm = combineStatistics(heartRiskFeatures, sites.map((s) => siteStatistics(heartRiskFeatures, s)));
    for (const f of heartRiskFeatures) {
      if (f.kind === 'numeric') continue;
      const counts = new Map<number, number>();
      for (const r of pooled) {
        const v = r.values[f.name];
        if (v !== null && v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      const best = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
      expect(norm.modes[f.name]).toBe(best);
    }
  });

  it('does not depend on how the rows are spread over sites', () => {
    const a = combineStatistics(heartRiskFeatures, [siteStatistics(heartRiskFeatures, pooled)]);
    const b = combineStatistics(heartRiskFeatures, sites.map((s) => siteStatistics(heartRiskFeatures, s)));
    for (const name of Object.keys(a.numeric)) {
      expect(b.numeric[name].mean).toBeCloseTo(a.numeric[name].mean, 9);
      expect(b.numeric[name].std).toBeCloseTo(a.numeric[name].std, 9);
    }
    expect(b.modes).toEqual(a.modes);
  });

  it('leaves missing values out of the sums and keeps reference statistics where nothing was measured', () => {
    const records: TabularRecord[] = [
      { id: '1', values: { age: 50, chol: null }, label: 0 },
      { id: '2', values: { age: 70, chol: null }, label: 1 },
    ];
    const s = siteStatistics(heartRiskFeatures, records);
    expect(s.numeric.age).toEqual({ count: 2, sum: 120, sumSquares: 2500 + 4900 });
    expect(s.numeric.chol.count).toBe(0);
    const norm = combineStatistics(heartRiskFeatures, [s]);
    expect(norm.numeric.age).toEqual({ count: 2, mean: 60, std: 10 });
    const chol = heartRiskFeatures.find((f) => f.name === 'chol')!;
    expect(norm.numeric.chol).toMatchObject({ count: 0, mean: chol.kind === 'numeric' ? chol.mean : NaN });
    expect(mergeStatistics([s, s]).numeric.age.count).toBe(4);
  });

  it('adds records chunk by chunk to exactly the statistics of one pass over them all', () => {
    const records = generateHeartRecords({ ...demoHospitals[1], missingRate: 0.05 });
    const whole = siteStatistics(heartRiskFeatures, records);
    const stats = emptySiteStatistics(heartRiskFeatures);
    for (const [start, end] of [[0, 1], [1, 1], [1, 40], [40, 173], [173, records.length]]) {
      expect(addSiteStatistics(stats, heartRiskFeatures, records.slice(start, end))).toBe(stats);
    }
    // Equal, not close: the same additions in the same order.
    expect(stats).toEqual(whole);
    expect(stats.rows).toBe(records.length);
    expect(Object.values(whole.numeric).some((s) => s.count < records.length)).toBe(true);
  });

  it('encodes with the global statistics: standardised training features have mean 0 and std 1', () => {
    const norm = combineStatistics(heartRiskFeatures, sites.map((s) => siteStatistics(heartRiskFeatures, s)));
    const complete = pooled.filter((r) => r.values.age !== null);
    const enc = encodeRecords(applyNormalisation(heartRisk.features, norm), complete);
    const col = 0; // age is the first encoded column
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < enc.n; i++) {
      const v = enc.x[i * enc.width + col];
      sum += v;
      sq += v * v;
    }
    expect(sum / enc.n).toBeCloseTo(0, 5);
    expect(Math.sqrt(sq / enc.n)).toBeCloseTo(1, 5);
  });
});
