import { describe, expect, it } from 'vitest';
import { lesionImages } from '../tasks/lesionImages';
import { generateLesionImages, lesionDataset, lesionHospitals, lesionSplit, type LesionImages } from './lesions';

const scans = lesionHospitals.map((h) => generateLesionImages(h));
const total = lesionHospitals.reduce((s, h) => s + h.size, 0);

/** Brightest 3 × 3 neighbourhood mean minus the image median: how much a bright blob stands out. */
function blobScore(s: LesionImages, i: number): number {
  const { h, w } = s;
  const img = s.images.subarray(i * h * w, (i + 1) * h * w);
  const sorted = Float32Array.from(img).sort();
  let best = 0;
  for (let r = 1; r < h - 1; r++) {
    for (let c = 1; c < w - 1; c++) {
      let sum = 0;
      for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) sum += img[(r + dr) * w + c + dc];
      best = Math.max(best, sum / 9);
    }
  }
  return best - sorted[sorted.length >> 1];
}

describe('lesion generator', () => {
  it('is deterministic per profile, and sites differ', () => {
    const again = generateLesionImages(lesionHospitals[2]);
    expect(again.images).toEqual(scans[2].images);
    expect(again.labels).toEqual(scans[2].labels);
    expect(again.ids).toEqual(scans[2].ids);
    expect(generateLesionImages({ ...lesionHospitals[2], seed: 7 }).images).not.toEqual(scans[2].images);
  });

  it('gives five sites of 30/15/10/25/20 % of the scans with 25/20/15/35/30 % positives', () => {
    expect(lesionHospitals).toHaveLength(5);
    expect(lesionHospitals.map((h) => h.size / total)).toEqual([0.3, 0.15, 0.1, 0.25, 0.2]);
    scans.forEach((s, k) => {
      const positives = s.labels.reduce((a, b) => a + b, 0);
      expect(positives / s.n).toBeCloseTo([0.25, 0.2, 0.15, 0.35, 0.3][k], 2);
      expect(s.n).toBe(lesionHospitals[k].size);
      expect(new Set(s.ids).size).toBe(s.n);
    });
  });

  it('makes 32 × 32 images with every pixel in [0, 1]', () => {
    for (const s of scans) {
      expect([s.h, s.w]).toEqual([32, 32]);
      expect(s.images).toHaveLength(s.n * 32 * 32);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of s.images) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(1);
      expect(hi - lo).toBeGreaterThan(0.3);
    }
  });

  it('puts a bright blob in the positive scans only', () => {
    const s = scans[0];
    const score = (label: number) => {
      const rows = Array.from(s.labels.keys()).filter((i) => s.labels[i] === label);
      return rows.reduce((a, i) => a + blobScore(s, i), 0) / rows.length;
    };
    expect(score(1)).toBeGreaterThan(score(0) + 0.1);
  });

  it('becomes a Dataset of [32, 32, 1] samples, split stratified and seeded per site', () => {
    const ds = lesionDataset(scans[3]);
    expect(ds.shape).toEqual(lesionImages.model.inputShape);
    expect(ds.width).toBe(1024);
    const config = lesionImages.defaults;
    const a = lesionSplit(lesionHospitals[3].id, scans[3], config);
    const b = lesionSplit(lesionHospitals[3].id, scans[3], config);
    expect(a).toEqual(b);
    expect(a.train.n + a.validation.n).toBe(scans[3].n);
    expect(a.validation.shape).toEqual([32, 32, 1]);
    const positives = scans[3].labels.reduce((x, y) => x + y, 0);
    expect(a.validation.y.reduce((x, y) => x + y, 0)).toBe(Math.round(config.validationFraction * positives));
    expect(lesionSplit('elsewhere', scans[3], config).validation.x).not.toEqual(a.validation.x);
  });
});
