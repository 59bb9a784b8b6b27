import { describe, expect, it } from 'vitest';
import { heartRiskFeatures } from '../tasks/heartRisk';
import type { TabularRecord } from '../tasks/spec';
import { demoHospitals, generateHeartRecords, heartRiskProbability, MARKER, type HeartFindings } from './heart';

const positiveRate = (records: TabularRecord[]) => records.reduce((s, r) => s + r.label, 0) / records.length;
const byId = Object.fromEntries(demoHospitals.map((h) => [h.id, h]));

function correlation(a: number[], b: number[]): number {
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = mean(a);
  const mb = mean(b);
  let cov = 0;
  let va = 0;
  let vb = 0;
  a.forEach((x, i) => {
    cov += (x - ma) * (b[i] - mb);
    va += (x - ma) ** 2;
    vb += (b[i] - mb) ** 2;
  });
  return cov / Math.sqrt(va * vb);
}

describe('demo hospitals', () => {
  it('are three sites of different sizes', () => {
    expect(demoHospitals.map((h) => h.id)).toEqual(['hospital-a', 'hospital-b', 'hospital-c']);
    expect(new Set(demoHospitals.map((h) => h.size)).size).toBe(3);
    expect(new Set(demoHospitals.map((h) => h.seed)).size).toBe(3);
    for (const h of demoHospitals) {
      const records = generateHeartRecords(h);
      expect(records).toHaveLength(h.size);
      expect(records[0].id).toBe(`${h.id}-00001`);
      expect(new Set(records.map((r) => r.id)).size).toBe(h.size);
    }
  });

  it('have the label balances they were designed with', () => {
    const rate = (id: string) => positiveRate(generateHeartRecords(byId[id]));
    expect(rate('hospital-a')).toBeGreaterThan(0.22);
    expect(rate('hospital-a')).toBeLessThan(0.36);
    expect(rate('hospital-b')).toBeGreaterThan(0.48);
    expect(rate('hospital-b')).toBeLessThan(0.62);
    expect(rate('hospital-c')).toBeGreaterThan(0.38);
    expect(rate('hospital-c')).toBeLessThan(0.54);
  });

  it('label by one clinical risk function whose Bayes accuracy is 80-88 %', () => {
    for (const h of demoHospitals) {
      // Without missing values the findings are complete; the random stream, and so the records, are the same.
      const records = generateHeartRecords({ ...h, missingRate: 0 });
      const probs = records.map((r) => heartRiskProbability(r.values as unknown as HeartFindings));
      const bayes = probs.reduce((s, p) => s + Math.max(p, 1 - p), 0) / probs.length;
      expect(bayes).toBeGreaterThan(0.8);
      expect(bayes).toBeLessThan(0.88);
      // Labels are draws from those probabilities: calibrated at every site.
      const meanProb = probs.reduce((s, p) => s + p, 0) / probs.length;
      expect(Math.abs(meanProb - positiveRate(records))).toBeLessThan(0.05);
      expect(records.map((r) => r.label)).toEqual(generateHeartRecords(h).map((r) => r.label));
    }
  });
});

describe('generateHeartRecords', () => {
  it('is deterministic for a profile and changes with the seed', () => {
    const h = demoHospitals[2];
    expect(generateHeartRecords(h)).toEqual(generateHeartRecords(h));
    const other = generateHeartRecords({ ...h, seed: h.seed + 1 });
    expect(other.map((r) => r.values)).not.toEqual(generateHeartRecords(h).map((r) => r.values));
  });

  it('keeps every value inside the template codes and ranges', () => {
    for (const h of demoHospitals) {
      for (const record of generateHeartRecords(h, { markers: true })) {
        expect(Object.keys(record.values).sort()).toEqual(heartRiskFeatures.map((f) => f.name).sort());
        expect([0, 1]).toContain(record.label);
        for (const f of heartRiskFeatures) {
          const v = record.values[f.name];
          if (v === null) {
            expect(['chol', 'ca', 'thal']).toContain(f.name);
            continue;
          }
          if (f.kind === 'numeric') {
            expect(v).toBeGreaterThanOrEqual(f.min);
            expect(v).toBeLessThanOrEqual(f.max);
            if (f.integer) expect(Number.isInteger(v)).toBe(true);
            else expect(Math.round(v * 10) / 10).toBe(v);
          } else if (f.kind === 'binary') {
            expect([0, 1]).toContain(v);
          } else {
            expect(f.categories.map((c) => c.code)).toContain(v);
          }
        }
      }
    }
  });

  it('plants a few missing values in chol, ca and thal', () => {
    const records = demoHospitals.flatMap((h) => generateHeartRecords(h));
    for (const name of ['chol', 'ca', 'thal']) {
      const missing = records.filter((r) => r.values[name] === null).length / records.length;
      expect(missing).toBeGreaterThan(0.005);
      expect(missing).toBeLessThan(0.03);
    }
  });

  it('draws findings that hang together clinically', () => {
    const records = demoHospitals.flatMap((h) => generateHeartRecords(h));
    const col = (name: string) => records.map((r) => r.values[name] ?? 0);
    expect(correlation(col('age'), col('thalach'))).toBeLessThan(-0.3);
    expect(correlation(col('oldpeak'), col('exang'))).toBeGreaterThan(0.2);
    const label = records.map((r) => r.label as number);
    expect(correlation(col('thalach'), label)).toBeLessThan(-0.2);
    expect(correlation(col('ca'), label)).toBeGreaterThan(0.2);
    // Covariate shift: the tertiary centre's patients are older and more often male than St. Aldric's.
    const mean = (id: string, name: string) => {
      const rs = generateHeartRecords(byId[id]);
      return rs.reduce((s, r) => s + (r.values[name] ?? 0), 0) / rs.length;
    };
    expect(mean('hospital-b', 'age') - mean('hospital-a', 'age')).toBeGreaterThan(5);
    expect(mean('hospital-b', 'sex') - mean('hospital-a', 'sex')).toBeGreaterThan(0.1);
  });
});

describe('markers', () => {
  const isMarked = (r: TabularRecord) => r.id.includes(MARKER.idPrefix);
  const carriesMarkerValue = (r: TabularRecord) => Object.entries(MARKER.values).some(([k, v]) => r.values[k] === v);

  it('are absent unless asked for, and no ordinary record carries a marker value', () => {
    for (const h of demoHospitals) {
      const records = generateHeartRecords(h);
      expect(records.filter(isMarked)).toHaveLength(0);
      expect(records.filter(carriesMarkerValue)).toHaveLength(0);
      expect(JSON.stringify(records)).not.toContain(MARKER.idPrefix);
    }
  });

  it('mark a few records per hospital, leaving the others untouched', () => {
    for (const h of demoHospitals) {
      const plain = generateHeartRecords(h);
      const marked = generateHeartRecords(h, { markers: true });
      expect(marked).toHaveLength(plain.length);
      const markers = marked.filter(isMarked);
      expect(markers).toHaveLength(MARKER.perHospital);
      for (const r of markers) {
        expect(r.id).toMatch(new RegExp(`^${h.id}-${MARKER.idPrefix}-\\d{5}$`));
        for (const [name, value] of Object.entries(MARKER.values)) expect(r.values[name]).toBe(value);
      }
      expect(marked.filter((r) => !isMarked(r))).toEqual(plain.filter((_, i) => !isMarked(marked[i])));
    }
  });
});
