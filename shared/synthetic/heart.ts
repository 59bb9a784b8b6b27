import type { TabularRecord } from '../tasks/spec';
import { deriveSeed, mulberry32, normal } from './rng';

/**
 * A hospital's patient population. Hospitals differ only in who walks in (covariate shift: age, sex,
 * disease burden, referral pattern), never in how disease follows from the findings: every hospital
 * labels its patients with the same clinical risk function, `heartRiskProbability`.
 */
export interface HospitalProfile {
  id: string;
  name: string;
  /** Number of records. */
  size: number;
  seed: number;
  ageMean: number;
  ageStd: number;
  /** Fraction of patients who are male. */
  maleFraction: number;
  /** Mean of the latent atherosclerotic burden (standard normal at 0): a tertiary centre sees sicker patients. */
  burdenShift: number;
  /** Extra log-odds that a patient presents with asymptomatic chest pain (referral pattern, screening). */
  asymptomaticBias: number;
  /** Base rate of fasting blood sugar > 120 mg/dl at age 55. */
  diabetesRate: number;
  /** Base rate of left ventricular hypertrophy on the resting ECG at 130 mm Hg. */
  lvhRate: number;
  /** Fraction of missing values in each of chol, ca and thal. */
  missingRate: number;
}

/** The three demo sites: large and mostly healthy, tertiary and sick, small and mixed. */
export const demoHospitals: HospitalProfile[] = [
  {
    id: 'hospital-a',
    name: 'St. Aldric General',
    size: 600,
    seed: 0x5a1d01,
    ageMean: 50,
    ageStd: 9,
    maleFraction: 0.55,
    burdenShift: -0.35,
    asymptomaticBias: -0.3,
    diabetesRate: 0.12,
    lvhRate: 0.35,
    missingRate: 0.015,
  },
  {
    id: 'hospital-b',
    name: 'Northfield University Hospital',
    size: 350,
    seed: 0x40f1e2,
    ageMean: 59,
    ageStd: 8,
    maleFraction: 0.78,
    burdenShift: -0.3,
    asymptomaticBias: 0.5,
    diabetesRate: 0.18,
    lvhRate: 0.5,
    missingRate: 0.01,
  },
  {
    id: 'hospital-c',
    name: 'Lakeside Community Clinic',
    size: 200,
    seed: 0x1a4e03,
    ageMean: 56,
    ageStd: 10,
    maleFraction: 0.62,
    burdenShift: -0.2,
    asymptomaticBias: 0.1,
    diabetesRate: 0.15,
    lvhRate: 0.25,
    missingRate: 0.02,
  },
];

/**
 * Two more seeded sites for a heart demo of up to five hospitals (`DEMO_HEART_HOSPITALS`): an
 * elderly rural practice and a young screening clinic. The default demo keeps the three above. Their
 * ids are not the simulator's `hospital-d`, `hospital-e` (shared/synthetic/cohort.ts), which differ.
 */
export const extraDemoHospitals: HospitalProfile[] = [
  {
    id: 'hospital-westmoor',
    name: 'Westmoor Rural Practice',
    size: 250,
    seed: 0x3d7a04,
    ageMean: 63,
    ageStd: 9,
    maleFraction: 0.5,
    burdenShift: -0.1,
    asymptomaticBias: 0.2,
    diabetesRate: 0.2,
    lvhRate: 0.4,
    missingRate: 0.02,
  },
  {
    id: 'hospital-harbour',
    name: 'Harbour Screening Centre',
    size: 300,
    seed: 0x6e2c05,
    ageMean: 47,
    ageStd: 8,
    maleFraction: 0.48,
    burdenShift: -0.45,
    asymptomaticBias: 0.4,
    diabetesRate: 0.1,
    lvhRate: 0.2,
    missingRate: 0.01,
  },
];

/** Every heart demo profile a demo site may be seeded with. */
export const allHeartDemoHospitals: HospitalProfile[] = [...demoHospitals, ...extraDemoHospitals];

/** The heart demo's first `n` hospitals (3 to 5). */
export function heartDemoHospitals(n = demoHospitals.length): HospitalProfile[] {
  return allHeartDemoHospitals.slice(0, Math.max(demoHospitals.length, n));
}

/**
 * Canary records for the test that watches network traffic and proves raw data never leaves a tab.
 *
 * With `{ markers: true }`, `MARKER.perHospital` records of each hospital get an id containing
 * `MARKER.idPrefix` (`hospital-a-CNSMARK-00101`) and every value in `MARKER.values`. Each value is
 * valid for its feature but lies outside what the generator otherwise produces (ordinary records are
 * kept inside narrower bounds, see `ORDINARY`), so the combination identifies a planted record.
 *
 * A scanner should look for, in every request body, URL, header and WebSocket frame:
 * - the ASCII string `CNSMARK` (the strongest signal: it appears nowhere else in the product);
 * - the decimal texts of the values: `583` (chol), `217` (trestbps), `61` (thalach), `97` (age),
 *   `-2.7` (oldpeak). Short numbers can occur by chance in other text, so treat a value hit as a leak
 *   when it appears as a field value (`"chol":583`, `chol=583`, a CSV cell) or alongside the others.
 */
export const MARKER = {
  idPrefix: 'CNSMARK',
  perHospital: 3,
  values: { age: 97, trestbps: 217, chol: 583, thalach: 61, oldpeak: -2.7 } as Record<string, number>,
} as const;

/** Bounds of ordinary records; the marker values lie outside them. */
const ORDINARY = {
  age: [25, 88],
  trestbps: [90, 200],
  chol: [120, 560],
  thalach: [71, 205],
  oldpeak: [0, 6.2],
} as const;

/** Complete (never missing) heart-risk findings with the template's codes. */
export interface HeartFindings {
  age: number;
  sex: number;
  cp: number;
  trestbps: number;
  chol: number;
  fbs: number;
  restecg: number;
  thalach: number;
  exang: number;
  oldpeak: number;
  slope: number;
  ca: number;
  thal: number;
}

/** Log-odds of heart disease: one clinical risk function shared by every hospital. */
export function heartRiskLogit(v: HeartFindings): number {
  const cp = v.cp === 4 ? 1.5 : v.cp === 2 ? -0.3 : v.cp === 3 ? -0.1 : 0;
  const restecg = v.restecg === 0 ? 0 : 0.3;
  const slope = v.slope === 2 ? 0.8 : v.slope === 3 ? 0.6 : 0;
  const thal = v.thal === 7 ? 1.4 : v.thal === 6 ? 0.7 : 0;
  return (
    -3.1 +
    0.05 * (v.age - 55) +
    1.0 * v.sex +
    cp +
    0.015 * (v.trestbps - 130) +
    0.005 * (v.chol - 245) +
    0.2 * v.fbs +
    restecg -
    0.025 * (v.thalach - 150) +
    0.9 * v.exang +
    0.55 * (v.oldpeak - 1) +
    slope +
    0.9 * v.ca +
    thal
  );
}

export function heartRiskProbability(v: HeartFindings): number {
  return 1 / (1 + Math.exp(-heartRiskLogit(v)));
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

function logit(p: number): number {
  return Math.log(p / (1 - p));
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** Index drawn from unnormalised log-weights. */
function categorical(rand: () => number, logits: number[]): number {
  const w = logits.map(Math.exp);
  let u = rand() * w.reduce((a, b) => a + b, 0);
  for (let i = 0; i < w.length - 1; i++) {
    u -= w[i];
    if (u < 0) return i;
  }
  return w.length - 1;
}

function poisson(rand: () => number, lambda: number): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k++;
    p *= rand();
  }
  return k;
}

/**
 * One patient's findings. A latent atherosclerotic burden ties the findings together the way disease
 * does (asymptomatic presentation, exercise angina, ST depression, a flat slope, more vessels, a
 * reversible defect, a lower peak heart rate), and age drives blood pressure, cholesterol and heart rate.
 */
function drawFindings(p: HospitalProfile, rand: () => number, gauss: () => number): HeartFindings {
  const sex = rand() < p.maleFraction ? 1 : 0;
  const age = Math.round(clamp(p.ageMean + p.ageStd * gauss(), ...ORDINARY.age));
  const burden = p.burdenShift + 0.035 * (age - 55) + 0.3 * sex + gauss();

  const cp = 1 + categorical(rand, [-0.9, 0, 0.5, 0.5 + 0.9 * burden + p.asymptomaticBias]);
  const trestbps = Math.round(clamp(128 + 0.5 * (age - 55) + 3 * burden + 16 * gauss(), ...ORDINARY.trestbps));
  const chol = Math.round(clamp(244 + 0.6 * (age - 55) - 8 * sex + 8 * burden + 46 * gauss(), ...ORDINARY.chol));
  const fbs = rand() < sigmoid(logit(p.diabetesRate) + 0.03 * (age - 55) + 0.2 * burden) ? 1 : 0;
  const lvh = sigmoid(logit(p.lvhRate) + 0.03 * (trestbps - 130));
  const stt = 0.02 + 0.01 * Math.max(0, burden);
  const r = rand();
  const restecg = r < stt ? 1 : r < stt + lvh * (1 - stt) ? 2 : 0;
  const thalach = Math.round(clamp(208 - 1.0 * age - 8 * burden + 15 * gauss(), ...ORDINARY.thalach));
  const exang = rand() < sigmoid(-1.3 + 0.9 * burden + (cp === 4 ? 0.8 : 0)) ? 1 : 0;
  const st = 0.55 + 0.7 * burden + 0.5 * exang + 0.9 * gauss();
  const oldpeak = st < 0.1 ? 0 : Math.round(clamp(st, ...ORDINARY.oldpeak) * 10) / 10;
  const slope = 1 + categorical(rand, [0, -0.4 + 0.9 * oldpeak, -3.2 + 0.9 * oldpeak]);
  const ca = Math.min(3, poisson(rand, Math.exp(-1.1 + 0.6 * burden + 0.03 * (age - 55))));
  const thal = [3, 6, 7][categorical(rand, [0, -2.8 + 0.3 * burden, -0.9 + 1.0 * burden + 0.5 * sex])];
  return { age, sex, cp, trestbps, chol, fbs, restecg, thalach, exang, oldpeak, slope, ca, thal };
}

/** Indices of the records that carry markers: spread over the file, never the first or last. */
function markerIndices(size: number): Set<number> {
  const out = new Set<number>();
  for (let k = 0; k < MARKER.perHospital && k < size; k++) {
    out.add(Math.floor(((k + 0.5) * size) / MARKER.perHospital));
  }
  return out;
}

/**
 * A hospital's records, deterministic for its profile. Missing values (null) are planted in chol, ca
 * and thal at the profile's rate, after the label is drawn from the complete findings. Marker records
 * (see `MARKER`) replace ordinary ones in place, so the others are identical with and without markers.
 */
export function generateHeartRecords(profile: HospitalProfile, options: { markers?: boolean } = {}): TabularRecord[] {
  const rand = mulberry32(deriveSeed(profile.seed, `heart:${profile.id}`));
  const gauss = normal(rand);
  const markers = options.markers ? markerIndices(profile.size) : new Set<number>();
  const records: TabularRecord[] = [];
  for (let i = 0; i < profile.size; i++) {
    let findings = drawFindings(profile, rand, gauss);
    const u = rand();
    const missing = [rand(), rand(), rand()].map((m) => m < profile.missingRate);
    const isMarker = markers.has(i);
    if (isMarker) findings = { ...findings, ...MARKER.values };
    const label: 0 | 1 = u < heartRiskProbability(findings) ? 1 : 0;
    const values: Record<string, number | null> = { ...findings };
    if (missing[0] && !isMarker) values.chol = null;
    if (missing[1]) values.ca = null;
    if (missing[2]) values.thal = null;
    const n = String(i + 1).padStart(5, '0');
    records.push({ id: isMarker ? `${profile.id}-${MARKER.idPrefix}-${n}` : `${profile.id}-${n}`, values, label });
  }
  return records;
}
