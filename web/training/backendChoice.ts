import type { BackendName } from '../../shared/protocol';
import type { ModelSpec } from '../../shared/tasks';

/**
 * The order backends are tried in, and the tie-break between equally fast ones: WebGPU on a real
 * adapter, WebGL, WASM, then the plain CPU. Without a model to measure, the first that starts wins.
 */
export const PROBE_ORDER: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** Largest relative gradient error, per weight tensor, a backend may show against the CPU backend. */
export const GRADIENT_TOLERANCE = 1e-2;

/** Whether training the model needs convolution gradients, which the WASM backend lacks (tfjs 4.22). */
export const needsConvolution = (spec: Pick<ModelSpec, 'layers'>): boolean => spec.layers.some((l) => l.type === 'conv2d' || l.type === 'maxPooling2d' || l.type === 'residualBlock');

/** Why a backend cannot train a model at all, or null when it can. */
export function unsuitableFor(backend: BackendName, spec: Pick<ModelSpec, 'layers'> | undefined): string | null {
  if (backend === 'wasm' && spec && needsConvolution(spec)) return 'no convolution gradient kernels, which this study’s model needs';
  return null;
}

/** The backends to try, in order: the forced one alone, else the probe order less those that cannot train the model. */
export function backendCandidates(
  forced: BackendName | undefined,
  spec: Pick<ModelSpec, 'layers'> | undefined,
): { candidates: BackendName[]; skipped: { backend: BackendName; reason: string }[] } {
  if (forced) {
    const reason = unsuitableFor(forced, spec);
    if (reason) throw new Error(`The ${forced} backend cannot train this study's model (${reason}); choose webgpu, webgl or cpu.`);
    return { candidates: [forced], skipped: [] };
  }
  const skipped: { backend: BackendName; reason: string }[] = [];
  const candidates = PROBE_ORDER.filter((b) => {
    const reason = unsuitableFor(b, spec);
    if (reason) skipped.push({ backend: b, reason });
    return !reason;
  });
  return { candidates, skipped };
}

/** What probing one backend found: it could not run the model, or how fast and how exact it was. */
export type BackendMeasurement =
  | { backend: BackendName; available: false; reason: string; adapter?: string }
  | {
      backend: BackendName;
      available: true;
      adapter?: string;
      /** Mean wall time of one training step (forward, backward, optimiser update) after a warm-up. */
      msPerStep: number;
      /** Samples per second at the measured batch size. */
      samplesPerSecond: number;
      /**
       * Largest relative error, over the weight tensors, of its gradients on the fixed batch against
       * the CPU backend's (0 for the CPU itself); null when the check could not run.
       */
      gradientError: number | null;
    };

/** chosen: trains; slower: correct but another was faster; refused: wrong gradients; unavailable: cannot run here. */
export type BackendVerdict = 'chosen' | 'slower' | 'refused' | 'unavailable';

export type BackendFigure = BackendMeasurement & { verdict: BackendVerdict; note?: string };

export interface BackendChoice {
  chosen: BackendName | null;
  /** One row per backend measured or passed over, in probe order. */
  figures: BackendFigure[];
}

/**
 * Relative error of each gradient tensor against the reference: `‖g − g_ref‖ / max(‖g_ref‖, eps)`.
 * A tensor of the wrong size, or with a value that is not finite, is infinitely wrong.
 */
export function relativeErrors(gradients: Float32Array[], reference: Float32Array[], eps = 1e-6): number[] {
  if (gradients.length !== reference.length) return [Infinity];
  return reference.map((ref, i) => {
    const g = gradients[i];
    if (g.length !== ref.length) return Infinity;
    let diff = 0;
    let norm = 0;
    for (let j = 0; j < ref.length; j++) {
      const d = g[j] - ref[j];
      diff += d * d;
      norm += ref[j] * ref[j];
    }
    const err = Math.sqrt(diff) / Math.max(Math.sqrt(norm), eps);
    return Number.isFinite(err) ? err : Infinity;
  });
}

/** The worst per-tensor relative error (0 for no tensors). */
export const gradientError = (gradients: Float32Array[], reference: Float32Array[], eps?: number): number =>
  relativeErrors(gradients, reference, eps).reduce((a, b) => Math.max(a, b), 0);

export interface ChooseOptions {
  /** Default `GRADIENT_TOLERANCE`. */
  tolerance?: number;
}

/**
 * The fastest backend whose gradients agree with the CPU backend's. A backend whose gradients were
 * not checked, or differ by `tolerance` or more on any tensor, is refused however fast it is. Equal
 * speeds go to the earlier backend in `PROBE_ORDER`.
 */
export function chooseBackend(measurements: BackendMeasurement[], { tolerance = GRADIENT_TOLERANCE }: ChooseOptions = {}): BackendChoice {
  const order = (b: BackendName) => PROBE_ORDER.indexOf(b);
  const sorted = [...measurements].sort((a, b) => order(a.backend) - order(b.backend));
  const figures: BackendFigure[] = sorted.map((m) => {
    if (!m.available) return { ...m, verdict: 'unavailable' };
    if (!Number.isFinite(m.msPerStep) || m.msPerStep <= 0) return { ...m, verdict: 'refused', note: 'its training steps could not be timed' };
    if (m.gradientError === null) return { ...m, verdict: 'refused', note: 'its gradients could not be checked against the CPU backend' };
    if (!(m.gradientError < tolerance))
      return { ...m, verdict: 'refused', note: `gradients differ from the CPU backend's (relative error ${formatError(m.gradientError)} ≥ ${formatError(tolerance)})` };
    return { ...m, verdict: 'slower' };
  });
  const correct = figures.filter((f): f is Extract<BackendFigure, { available: true }> => f.verdict === 'slower' && f.available);
  const best = correct.reduce<(typeof correct)[number] | null>((b, f) => (!b || f.msPerStep < b.msPerStep ? f : b), null);
  if (best) {
    best.verdict = 'chosen';
    for (const f of correct) if (f !== best) f.note = `${(f.msPerStep / best.msPerStep).toFixed(1)}× the time of ${best.backend} per step`;
  }
  return { chosen: best?.backend ?? null, figures };
}

export const formatError = (e: number): string => (Number.isFinite(e) ? e.toExponential(1) : '∞');

/** A stable hash of a model spec (FNV-1a over its JSON, keys sorted), hex. */
export function specHash(spec: unknown): string {
  const text = stableJson(spec);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** Bump when the probe measures differently: earlier cached choices are then measured again. */
export const PROBE_VERSION = 1;

/**
 * The cache key of a measured choice: the same device (browser build, GPU adapter) training the same
 * model keeps its choice; a browser update, another GPU or another model measures again.
 */
export const choiceCacheKey = (p: { spec: unknown; userAgent: string; adapter: string | null }): string =>
  `v${PROBE_VERSION}|${specHash(p.spec)}|${p.adapter ?? 'no-webgpu'}|${p.userAgent}`;
