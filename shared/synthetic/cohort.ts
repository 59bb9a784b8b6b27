import { templateFamily, type TabularRecord } from '../tasks/spec';
import { generateHcvRecords, hcvHospitals, type HcvHospitalProfile } from './hcv';
import { demoHospitals, generateHeartRecords, type HospitalProfile } from './heart';
import { generateLesionImages, lesionHospitals, type LesionHospitalProfile, type LesionImages } from './lesions';
import { deriveSeed, mulberry32 } from './rng';

/**
 * A federation of any size for the simulator and the benchmarks: a template's demo hospitals first,
 * then as many more as asked, each derived from `seed` and its position alone, so a given
 * (template, count, seed) always yields the same sites. Derived sites differ from each other the way
 * the demo ones do: in size, in label balance and in who walks in.
 */
export type SyntheticSite =
  | { kind: 'tabular'; id: string; name: string; size: number; records: TabularRecord[] }
  | { kind: 'images'; id: string; name: string; size: number; scans: LesionImages };

/** Templates the cohort can make sites for. */
export const cohortTemplates = ['heart-risk', 'hcv-stage', 'lesion-images'] as const;

const letters = 'abcdefghijklmnopqrstuvwxyz';
/** `<prefix>-d`, … `<prefix>-z`, then `<prefix>-27`, …: the demo sites' naming, continued. */
const siteId = (prefix: string, k: number) => `${prefix}-${k < letters.length ? letters[k] : k + 1}`;
const siteName = (k: number) => `Simulated site ${k < letters.length ? letters[k].toUpperCase() : k + 1}`;

/** A uniform draw in [lo, hi). */
const between = (rand: () => number, lo: number, hi: number) => lo + (hi - lo) * rand();

export function heartProfiles(count: number, seed: number): HospitalProfile[] {
  return Array.from({ length: count }, (_, k) => {
    if (k < demoHospitals.length) return demoHospitals[k];
    const rand = mulberry32(deriveSeed(seed, `heart-risk:site-${k}`));
    return {
      id: siteId('hospital', k),
      name: siteName(k),
      size: Math.round(between(rand, 150, 700)),
      seed: Math.floor(rand() * 0x7fffffff),
      ageMean: between(rand, 46, 62),
      ageStd: between(rand, 8, 11),
      maleFraction: between(rand, 0.4, 0.85),
      // The latent disease burden sets the label balance: from mostly healthy to mostly sick.
      burdenShift: between(rand, -0.8, 0.4),
      asymptomaticBias: between(rand, -0.5, 0.6),
      diabetesRate: between(rand, 0.08, 0.22),
      lvhRate: between(rand, 0.2, 0.55),
      missingRate: between(rand, 0.005, 0.03),
    };
  });
}

export function hcvProfiles(count: number, seed: number): HcvHospitalProfile[] {
  return Array.from({ length: count }, (_, k) => {
    if (k < hcvHospitals.length) return hcvHospitals[k];
    const rand = mulberry32(deriveSeed(seed, `hcv-stage:site-${k}`));
    // Donors from a blood bank's share down to a liver unit's; the rest split at random among the stages.
    const donors = between(rand, 0.45, 0.95);
    const parts = [rand() + 0.2, rand() + 0.2, rand() + 0.2];
    const sum = parts.reduce((a, b) => a + b, 0);
    const [h, f, c] = parts.map((p) => ((1 - donors) * p) / sum);
    return {
      id: siteId('hcv-site', k),
      name: siteName(k),
      size: Math.round(between(rand, 250, 700)),
      seed: Math.floor(rand() * 0x7fffffff),
      classMix: [1 - h - f - c, h, f, c],
      ageShift: Math.round(between(rand, -4, 4)),
      assayScale: between(rand, 0.92, 1.08),
      missingRate: between(rand, 0.01, 0.04),
    };
  });
}

export function lesionProfiles(count: number, seed: number): LesionHospitalProfile[] {
  return Array.from({ length: count }, (_, k) => {
    if (k < lesionHospitals.length) return lesionHospitals[k];
    const rand = mulberry32(deriveSeed(seed, `lesion-images:site-${k}`));
    return {
      id: siteId('lesion', k),
      name: siteName(k),
      size: Math.round(between(rand, 80, 240)),
      seed: Math.floor(rand() * 0x7fffffff),
      positiveRate: between(rand, 0.12, 0.38),
      brightness: between(rand, 0.27, 0.37),
      noise: between(rand, 0.04, 0.07),
    };
  });
}

/** `count` sites of a template, with their data. */
export function syntheticSites(templateId: string, count: number, seed: number): SyntheticSite[] {
  if (!(Number.isInteger(count) && count >= 1)) throw new RangeError(`a federation needs a whole number of sites ≥ 1, got ${count}`);
  // Every version of a template describes the same data.
  switch (templateFamily(templateId)) {
    case 'heart-risk':
      return heartProfiles(count, seed).map((p) => ({ kind: 'tabular', id: p.id, name: p.name, size: p.size, records: generateHeartRecords(p) }));
    case 'hcv-stage':
      return hcvProfiles(count, seed).map((p) => ({ kind: 'tabular', id: p.id, name: p.name, size: p.size, records: generateHcvRecords(p) }));
    case 'lesion-images':
      return lesionProfiles(count, seed).map((p) => ({ kind: 'images', id: p.id, name: p.name, size: p.size, scans: generateLesionImages(p) }));
    default:
      throw new RangeError(`no synthetic sites for template '${templateId}': one of ${cohortTemplates.join(', ')}`);
  }
}
