import { LESION_INPUT_SIZE } from '../tasks/lesionImages';
import { subset, type Dataset } from '../training/dataset';
import { splitTrainValidation } from '../training/split';
import { deriveSeed, mulberry32, normal, shuffledIndices } from './rng';

/**
 * A hospital's scans. Sites differ in how many scans they hold, how many show a lesion, and in their
 * scanner (brightness, noise); what a lesion looks like is the same everywhere.
 */
export interface LesionHospitalProfile {
  id: string;
  name: string;
  /** Number of scans. */
  size: number;
  seed: number;
  /** Fraction of scans with a lesion; the count is exact (rounded). */
  positiveRate: number;
  /** Mean tissue intensity in [0, 1]. */
  brightness: number;
  /** Standard deviation of the per-pixel sensor noise. */
  noise: number;
}

/**
 * Five demo sites holding 30/15/10/25/20 % of 800 scans, with 25/20/15/35/30 % positives: small
 * enough for a CNN to train on in seconds on a CPU.
 */
export const lesionHospitals: LesionHospitalProfile[] = [
  { id: 'lesion-a', name: 'Harbourview Imaging Centre', size: 240, seed: 0x1e5a01, positiveRate: 0.25, brightness: 0.32, noise: 0.05 },
  { id: 'lesion-b', name: 'St. Brannoc Radiology', size: 120, seed: 0x1e5a02, positiveRate: 0.2, brightness: 0.36, noise: 0.06 },
  { id: 'lesion-c', name: 'Coldwater Clinic', size: 80, seed: 0x1e5a03, positiveRate: 0.15, brightness: 0.28, noise: 0.07 },
  { id: 'lesion-d', name: 'Dunmore Cancer Institute', size: 200, seed: 0x1e5a04, positiveRate: 0.35, brightness: 0.34, noise: 0.045 },
  { id: 'lesion-e', name: 'Elmstead University Hospital', size: 160, seed: 0x1e5a05, positiveRate: 0.3, brightness: 0.3, noise: 0.055 },
];

export interface LesionImages {
  /** `n` images, each `h × w` row by row, values in [0, 1]. */
  images: Float32Array;
  /** 1 where the scan shows a lesion. */
  labels: Uint8Array;
  n: number;
  h: number;
  w: number;
  ids: string[];
}

const smoothstep = (edge0: number, edge1: number, v: number) => {
  const t = Math.min(1, Math.max(0, (v - edge0) / (edge1 - edge0)));
  return t * t * (3 - 2 * t);
};

/**
 * Tissue: a slowly varying texture (a coarse random grid, bilinearly upsampled) around the site's
 * brightness, plus a few small bright specks (vessels, calcifications) that any scan may show, so
 * that "something bright" alone does not mean a lesion.
 */
function drawTissue(img: Float32Array, size: number, p: LesionHospitalProfile, rand: () => number, gauss: () => number): void {
  const grid = 5;
  const coarse = Array.from({ length: grid * grid }, () => 0.07 * gauss());
  const base = p.brightness + 0.03 * gauss();
  for (let r = 0; r < size; r++) {
    const gy = (r / (size - 1)) * (grid - 1);
    const y0 = Math.min(grid - 2, Math.floor(gy));
    const fy = gy - y0;
    for (let c = 0; c < size; c++) {
      const gx = (c / (size - 1)) * (grid - 1);
      const x0 = Math.min(grid - 2, Math.floor(gx));
      const fx = gx - x0;
      const top = coarse[y0 * grid + x0] * (1 - fx) + coarse[y0 * grid + x0 + 1] * fx;
      const bottom = coarse[(y0 + 1) * grid + x0] * (1 - fx) + coarse[(y0 + 1) * grid + x0 + 1] * fx;
      img[r * size + c] = base + top * (1 - fy) + bottom * fy;
    }
  }
  const specks = Math.floor(rand() * 4);
  for (let k = 0; k < specks; k++) {
    const cy = rand() * size;
    const cx = rand() * size;
    const amp = 0.12 + 0.15 * rand();
    for (let r = Math.max(0, Math.floor(cy - 2)); r < Math.min(size, cy + 3); r++) {
      for (let c = Math.max(0, Math.floor(cx - 2)); c < Math.min(size, cx + 3); c++) {
        const d2 = (r - cy) ** 2 + (c - cx) ** 2;
        img[r * size + c] += amp * Math.exp(-d2 / 0.8);
      }
    }
  }
}

/**
 * A lesion: a bright disc of random position and radius whose edge wobbles (two angular harmonics)
 * and blurs over about a pixel, with a mottled inside.
 */
function drawLesion(img: Float32Array, size: number, rand: () => number, gauss: () => number): void {
  const radius = 2.5 + 3.5 * rand();
  const margin = radius + 1;
  const cy = margin + rand() * (size - 2 * margin);
  const cx = margin + rand() * (size - 2 * margin);
  const contrast = 0.18 + 0.17 * rand();
  const harmonics = [
    { k: 3, a: 0.2 * rand(), phase: 2 * Math.PI * rand() },
    { k: 5, a: 0.12 * rand(), phase: 2 * Math.PI * rand() },
  ];
  const reach = Math.ceil(radius * 1.4) + 2;
  for (let r = Math.max(0, Math.floor(cy - reach)); r < Math.min(size, cy + reach); r++) {
    for (let c = Math.max(0, Math.floor(cx - reach)); c < Math.min(size, cx + reach); c++) {
      const dy = r - cy;
      const dx = c - cx;
      const theta = Math.atan2(dy, dx);
      const edge = radius * (1 + harmonics.reduce((s, h) => s + h.a * Math.sin(h.k * theta + h.phase), 0));
      const inside = 1 - smoothstep(edge - 0.8, edge + 0.8, Math.sqrt(dx * dx + dy * dy));
      if (inside > 0) img[r * size + c] += inside * contrast * (1 + 0.15 * gauss());
    }
  }
}

/**
 * A hospital's scans, deterministic for its profile: exactly `round(positiveRate × size)` show a
 * lesion, spread over the file by a seeded shuffle. Sensor noise is added last and values clipped to
 * [0, 1].
 */
export function generateLesionImages(profile: LesionHospitalProfile, size = LESION_INPUT_SIZE): LesionImages {
  const rand = mulberry32(deriveSeed(profile.seed, `lesions:${profile.id}`));
  const gauss = normal(rand);
  const n = profile.size;
  const positives = Math.round(profile.positiveRate * n);
  const labels = new Uint8Array(n);
  shuffledIndices(n, rand).forEach((k, pos) => (labels[k] = pos < positives ? 1 : 0));
  const pixels = size * size;
  const images = new Float32Array(n * pixels);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const img = images.subarray(i * pixels, (i + 1) * pixels);
    drawTissue(img, size, profile, rand, gauss);
    if (labels[i]) drawLesion(img, size, rand, gauss);
    for (let j = 0; j < pixels; j++) img[j] = Math.min(1, Math.max(0, img[j] + profile.noise * gauss()));
    ids.push(`${profile.id}-${String(i + 1).padStart(5, '0')}`);
  }
  return { images, labels, n, h: size, w: size, ids };
}

/** Scans as a training Dataset of `[h, w, 1]` samples. */
export function lesionDataset(scans: LesionImages): Dataset {
  return { x: scans.images, y: Float32Array.from(scans.labels), n: scans.n, width: scans.h * scans.w, shape: [scans.h, scans.w, 1] };
}

/**
 * A site's scans split as every tabular site's records are: stratified by label, seeded by
 * `deriveSeed(config.seed, siteId)`.
 */
export function lesionSplit(
  siteId: string,
  scans: LesionImages,
  config: { validationFraction: number; seed: number },
): { train: Dataset; validation: Dataset } {
  const ds = lesionDataset(scans);
  const { train, validation } = splitTrainValidation(ds.y, config.validationFraction, deriveSeed(config.seed, siteId));
  return { train: subset(ds, train), validation: subset(ds, validation) };
}
