import { describe, expect, it } from 'vitest';
import { demoHospitals } from './heart';
import { hcvProfiles, heartProfiles, lesionProfiles, syntheticSites } from './cohort';

const positiveRate = (labels: number[]) => labels.filter((l) => l === 1).length / labels.length;

describe('synthetic federations of any size', () => {
  it('start with the demo hospitals and derive the rest deterministically from the seed', () => {
    const a = heartProfiles(8, 2026);
    expect(a.slice(0, 3)).toEqual(demoHospitals);
    expect(heartProfiles(8, 2026)).toEqual(a);
    expect(heartProfiles(8, 7).slice(3)).not.toEqual(a.slice(3));
    // A site's profile depends on its position, not on how many sites there are.
    expect(heartProfiles(5, 2026)).toEqual(a.slice(0, 5));
    expect(new Set(a.map((p) => p.id)).size).toBe(8);
    expect(a.map((p) => p.id).slice(3, 5)).toEqual(['hospital-d', 'hospital-e']);
  });

  it('differ in size and label balance', () => {
    const sites = syntheticSites('heart-risk', 8, 2026);
    const sizes = sites.map((s) => s.size);
    expect(new Set(sizes).size).toBe(8);
    const rates = sites.map((s) => (s.kind === 'tabular' ? positiveRate(s.records.map((r) => r.label)) : 0));
    expect(Math.max(...rates) - Math.min(...rates)).toBeGreaterThan(0.15);
    sites.forEach((s) => expect(s.kind === 'tabular' && s.records.length).toBe(s.size));
  });

  it('cover the hcv-stage and lesion-images templates, with valid class mixes', () => {
    for (const p of hcvProfiles(6, 1)) {
      expect(p.classMix.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      expect(p.classMix.every((share) => share > 0)).toBe(true);
    }
    for (const p of lesionProfiles(7, 1)) expect(p.positiveRate).toBeGreaterThan(0.1);
    expect(syntheticSites('hcv-stage', 4, 1).map((s) => s.kind)).toEqual(['tabular', 'tabular', 'tabular', 'tabular']);
    expect(() => syntheticSites('no-such-template', 3, 1)).toThrow(/no synthetic sites/);
    expect(() => syntheticSites('heart-risk', 0, 1)).toThrow(RangeError);
  });
});
