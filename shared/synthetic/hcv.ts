import { hcvStageFeatures } from '../tasks/hcvStage';
import type { NumericFeature, TabularRecord } from '../tasks/spec';
import { deriveSeed, mulberry32, normal, shuffledIndices } from './rng';

/**
 * A hospital's liver-panel population. Sites differ in who they see (a blood bank sees donors, a
 * liver unit sees patients at every stage), in age, and in their laboratory's calibration; how each
 * stage shows in the panel is the same everywhere (`HCV_STAGES`).
 */
export interface HcvHospitalProfile {
  id: string;
  name: string;
  /** Number of records. */
  size: number;
  seed: number;
  /** Share of blood donors, hepatitis, fibrosis and cirrhosis; sums to 1. Counts are exact (rounded). */
  classMix: [number, number, number, number];
  /** Years added to every patient's age. */
  ageShift: number;
  /** Multiplicative calibration of the site's transaminase and GGT assays (ALT, AST, GGT). */
  assayScale: number;
  /** Fraction of missing values in each of ALP and CHOL (the panel's usual gaps). */
  missingRate: number;
}

/** Three demo sites: a blood bank, a hepatology referral unit, a regional hospital. */
export const hcvHospitals: HcvHospitalProfile[] = [
  {
    id: 'hcv-blood-bank',
    name: 'Riverside Transfusion Centre',
    size: 700,
    seed: 0x4c7b01,
    classMix: [0.94, 0.02, 0.02, 0.02],
    ageShift: -3,
    assayScale: 1,
    missingRate: 0.01,
  },
  {
    id: 'hcv-liver-unit',
    name: 'Meridian Liver Unit',
    size: 300,
    seed: 0x4c7b02,
    classMix: [0.45, 0.17, 0.16, 0.22],
    ageShift: 3,
    assayScale: 1.06,
    missingRate: 0.04,
  },
  {
    id: 'hcv-regional',
    name: 'Eastbrook Regional Hospital',
    size: 400,
    seed: 0x4c7b03,
    classMix: [0.8, 0.06, 0.06, 0.08],
    ageShift: 0,
    assayScale: 0.95,
    missingRate: 0.02,
  },
];

/** `[median, sd of the natural log]` of a right-skewed test. */
type LogNormal = [number, number];
/** `[mean, sd]` of a roughly symmetric test. */
type Gaussian = [number, number];

interface Stage {
  ageMean: number;
  ageStd: number;
  maleFraction: number;
  alt: LogNormal;
  ast: LogNormal;
  ggt: LogNormal;
  bil: LogNormal;
  alp: LogNormal;
  crea: LogNormal;
  alb: Gaussian;
  che: Gaussian;
  prot: Gaussian;
  chol: Gaussian;
}

/**
 * How each stage shows in the panel, after the HCV data set's class means. Inflammation raises the
 * transaminases and GGT (hepatitis: ALT ≈ AST); fibrosis adds age and starts to lower the synthetic
 * markers (CHE, ALB); cirrhosis turns the AST/ALT ratio above 1, raises bilirubin, ALP, GGT and
 * creatinine (renal impairment, a long tail), and lowers albumin, cholinesterase, protein and
 * cholesterol.
 */
export const HCV_STAGES: readonly Stage[] = [
  {
    ageMean: 47,
    ageStd: 9.5,
    maleFraction: 0.61,
    alt: [22, 0.4],
    ast: [25, 0.22],
    ggt: [22, 0.55],
    bil: [7.5, 0.45],
    alp: [68, 0.28],
    crea: [78, 0.17],
    alb: [42.2, 5],
    che: [8.4, 1.7],
    prot: [72.3, 4.6],
    chol: [5.5, 1.05],
  },
  {
    ageMean: 39,
    ageStd: 9,
    maleFraction: 0.78,
    alt: [48, 0.5],
    ast: [48, 0.4],
    ggt: [55, 0.7],
    bil: [10, 0.55],
    alp: [60, 0.35],
    crea: [76, 0.2],
    alb: [42.5, 4.5],
    che: [8.9, 1.9],
    prot: [73.5, 5],
    chol: [5.0, 1.1],
  },
  {
    ageMean: 51,
    ageStd: 9,
    maleFraction: 0.7,
    alt: [58, 0.55],
    ast: [62, 0.4],
    ggt: [70, 0.7],
    bil: [11.5, 0.55],
    alp: [62, 0.35],
    crea: [75, 0.2],
    alb: [40.5, 4.5],
    che: [7.6, 1.8],
    prot: [72.5, 5],
    chol: [4.8, 1.0],
  },
  {
    ageMean: 54,
    ageStd: 10,
    maleFraction: 0.7,
    alt: [30, 0.6],
    ast: [95, 0.5],
    ggt: [120, 0.8],
    bil: [35, 0.8],
    alp: [100, 0.45],
    crea: [92, 0.5],
    alb: [32.5, 5.5],
    che: [4.4, 1.9],
    prot: [67, 6.5],
    chol: [4.1, 1.1],
  },
];

const bounds = Object.fromEntries(
  hcvStageFeatures.filter((f): f is NumericFeature => f.kind === 'numeric').map((f) => [f.name, [f.min, f.max] as const]),
);

function clampTo(name: string, v: number, decimals: number): number {
  const [lo, hi] = bounds[name];
  const scale = 10 ** decimals;
  return Math.round(Math.min(hi, Math.max(lo, v)) * scale) / scale;
}

/** Class of each record, in order: exact counts from the mix, the donors taking the rounding, shuffled. */
function stageOrder(profile: HcvHospitalProfile, rand: () => number): number[] {
  const counts = profile.classMix.map((share) => Math.round(share * profile.size));
  counts[0] = profile.size - counts.slice(1).reduce((a, b) => a + b, 0);
  if (counts[0] < 0) throw new RangeError(`class mix of ${profile.id} does not fit ${profile.size} records`);
  const stages = counts.flatMap((c, k) => new Array<number>(c).fill(k));
  return Array.from(shuffledIndices(stages.length, rand), (i) => stages[i]);
}

/**
 * A hospital's records, deterministic for its profile: `label` is the stage index (see
 * `hcvStageClasses`). Two latent factors tie the panel together as disease does: inflammation moves
 * ALT, AST and GGT together, synthetic capacity moves ALB, CHE, PROT and CHOL together. Men have
 * higher creatinine, GGT and ALT. ALP and CHOL go missing (null) at the profile's rate.
 */
export function generateHcvRecords(profile: HcvHospitalProfile): TabularRecord[] {
  const rand = mulberry32(deriveSeed(profile.seed, `hcv:${profile.id}`));
  const gauss = normal(rand);
  const order = stageOrder(profile, rand);
  return order.map((label, i) => {
    const s = HCV_STAGES[label];
    const male = rand() < s.maleFraction ? 1 : 0;
    const age = Math.round(Math.min(80, Math.max(19, s.ageMean + profile.ageShift + s.ageStd * gauss())));
    const inflammation = gauss();
    const synthesis = gauss();
    const logNormal = ([median, sd]: LogNormal, shared: number, weight: number) =>
      median * Math.exp(sd * (weight * shared + Math.sqrt(1 - weight * weight) * gauss()));
    const gaussian = ([mean, sd]: Gaussian, shared: number, weight: number) =>
      mean + sd * (weight * shared + Math.sqrt(1 - weight * weight) * gauss());
    const assay = profile.assayScale;
    const values: Record<string, number | null> = {
      age,
      sex: male,
      alb: clampTo('alb', gaussian(s.alb, synthesis, 0.6) - 0.05 * (age - 47) + 0.8 * male, 1),
      alp: clampTo('alp', logNormal(s.alp, inflammation, 0.2), 1),
      alt: clampTo('alt', assay * logNormal(s.alt, inflammation, 0.6) * (male ? 1.15 : 1), 1),
      ast: clampTo('ast', assay * logNormal(s.ast, inflammation, 0.6), 1),
      bil: clampTo('bil', logNormal(s.bil, inflammation, 0.2), 1),
      che: clampTo('che', gaussian(s.che, synthesis, 0.6) + 0.4 * male, 2),
      chol: clampTo('chol', gaussian(s.chol, synthesis, 0.3) + 0.015 * (age - 47) - 0.1 * male, 2),
      crea: clampTo('crea', logNormal(s.crea, 0, 0) * (male ? 1.15 : 0.9), 1),
      ggt: clampTo('ggt', assay * logNormal(s.ggt, inflammation, 0.4) * (male ? 1.2 : 1), 1),
      prot: clampTo('prot', gaussian(s.prot, synthesis, 0.4), 1),
    };
    if (rand() < profile.missingRate) values.alp = null;
    if (rand() < profile.missingRate) values.chol = null;
    return { id: `${profile.id}-${String(i + 1).padStart(5, '0')}`, values, label };
  });
}
