import { describe, expect, it } from 'vitest';
import { hcvStage, hcvStageFeatures } from '../tasks/hcvStage';
import type { TabularRecord } from '../tasks/spec';
import { hospitalSplit } from '../training/split';
import { generateHcvRecords, hcvHospitals } from './hcv';

const all = hcvHospitals.flatMap((h) => generateHcvRecords(h));
const byClass = (k: number) => all.filter((r) => r.label === k);
const median = (records: TabularRecord[], name: string) => {
  const v = records.map((r) => r.values[name]).filter((x): x is number => x !== null).sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)];
};

describe('HCV generator', () => {
  it('is deterministic per profile, and profiles differ', () => {
    for (const h of hcvHospitals) expect(generateHcvRecords(h)).toEqual(generateHcvRecords(h));
    expect(generateHcvRecords({ ...hcvHospitals[0], seed: 1 })).not.toEqual(generateHcvRecords(hcvHospitals[0]));
  });

  it('keeps every value inside the template ranges, with the usual gaps only in ALP and CHOL', () => {
    const missing: Record<string, number> = {};
    for (const r of all) {
      expect(Number.isInteger(r.label) && r.label >= 0 && r.label <= 3).toBe(true);
      expect(Object.keys(r.values).sort()).toEqual(hcvStageFeatures.map((f) => f.name).sort());
      for (const f of hcvStageFeatures) {
        const v = r.values[f.name];
        if (v === null) {
          missing[f.name] = (missing[f.name] ?? 0) + 1;
          continue;
        }
        expect(Number.isFinite(v)).toBe(true);
        if (f.kind === 'binary') expect([0, 1]).toContain(v);
        if (f.kind === 'numeric') {
          expect(v).toBeGreaterThanOrEqual(f.min);
          expect(v).toBeLessThanOrEqual(f.max);
          if (f.integer) expect(Number.isInteger(v)).toBe(true);
        }
      }
    }
    expect(Object.keys(missing).sort()).toEqual(['alp', 'chol']);
    expect(missing.alp / all.length).toBeLessThan(0.05);
    expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
  });

  it('has exact class counts per site: mostly donors, sites differing in case mix', () => {
    for (const h of hcvHospitals) {
      const records = generateHcvRecords(h);
      expect(records).toHaveLength(h.size);
      const counts = [0, 1, 2, 3].map((k) => records.filter((r) => r.label === k).length);
      [1, 2, 3].forEach((k) => expect(counts[k]).toBe(Math.round(h.classMix[k] * h.size)));
    }
    const donorShare = byClass(0).length / all.length;
    expect(donorShare).toBeGreaterThan(0.7);
    expect(donorShare).toBeLessThan(0.9);
    for (const k of [1, 2, 3]) expect(byClass(k).length).toBeGreaterThan(50);
    const shares = hcvHospitals.map((h) => h.classMix[0]);
    expect(Math.max(...shares) - Math.min(...shares)).toBeGreaterThan(0.3);
  });

  it('looks like the disease: injury markers rise and synthetic markers fall with stage', () => {
    const m = (name: string) => [0, 1, 2, 3].map((k) => median(byClass(k), name));
    const ast = m('ast');
    expect(ast[1]).toBeGreaterThan(1.5 * ast[0]);
    expect(ast[3]).toBeGreaterThan(ast[2]);
    expect(ast[2]).toBeGreaterThan(ast[1]);
    for (const name of ['ggt', 'bil']) expect(m(name)[3]).toBeGreaterThan(2 * m(name)[0]);
    expect(m('alt')[1]).toBeGreaterThan(1.5 * m('alt')[0]);
    for (const name of ['alb', 'che', 'prot']) {
      const v = m(name);
      expect(v[3]).toBeLessThan(v[2]);
      expect(v[3]).toBeLessThan(v[0]);
    }
    // Cirrhosis turns the AST/ALT (De Ritis) ratio well above 1.
    expect(ast[3] / m('alt')[3]).toBeGreaterThan(2);
    // The panel's levels sit near the public data set's reference means.
    for (const f of hcvStageFeatures) {
      if (f.kind !== 'numeric') continue;
      const donors = median(byClass(0), f.name);
      expect(Math.abs(donors - f.mean)).toBeLessThan(1.2 * f.std);
    }
  });

  it('encodes and splits like any tabular site, stratified by class', () => {
    const h = hcvHospitals[1];
    const { train, validation } = hospitalSplit(hcvStage, h.id, generateHcvRecords(h));
    expect(train.width).toBe(hcvStage.model.inputDim);
    expect(train.n + validation.n).toBe(h.size);
    for (const k of [1, 2, 3]) {
      const held = Array.from(validation.y).filter((y) => y === k).length;
      expect(held).toBe(Math.round(hcvStage.defaults.validationFraction * Math.round(h.classMix[k] * h.size)));
    }
  });
});
