import type { BackendName } from '../../shared/protocol';
import { formatError, GRADIENT_TOLERANCE, PROBE_ORDER, type BackendFigure } from '../training/backendChoice';

/**
 * The backend measurement in words hospital staff can read: what each way of running the model's
 * maths is, how fast it trained this study's model, whether its results matched the reference (the
 * plain JavaScript processor backend), and which one the tab uses and why. The raw figures stay in
 * the row's title and data attributes for whoever debugs it.
 */

export const BACKEND_NAMES: Record<BackendName, { name: string; hardware: string }> = {
  webgpu: { name: 'WebGPU', hardware: 'graphics card' },
  webgl: { name: 'WebGL', hardware: 'graphics card' },
  wasm: { name: 'WebAssembly', hardware: 'processor' },
  cpu: { name: 'JavaScript', hardware: 'processor, the reference' },
};

export const RESULT_TEXT = { chosen: 'Used', slower: 'Not used: slower', refused: 'Not used: wrong results', unavailable: 'Not available here' } as const;

export interface BackendRow {
  backend: BackendName;
  verdict: BackendFigure['verdict'];
  method: string;
  hardware: string;
  /** Records trained per second, or why there is no figure. */
  speed: string;
  /** Whether its gradients matched the reference's, with the measured difference. */
  agreement: string;
  result: string;
  why: string;
}

/** Technical reasons a backend could not run, as a person would say them; the detail kept in brackets. */
export function plainReason(reason: string): string {
  const rules: [RegExp, string][] = [
    [/navigator\.gpu is not available/, 'this browser does not offer WebGPU'],
    [/no WebGPU adapter/, 'this browser found no graphics card for WebGPU'],
    [/fallback adapter/, 'only a software stand-in for a graphics card, slower than the processor'],
    [/software renderer/, 'only a software stand-in for a graphics card, slower than the processor'],
    [/no convolution gradient kernels/, 'cannot train this study’s image model'],
    [/failed to initialise/, 'could not start in this browser'],
    [/failed while training/, 'stopped with an error while training'],
    [/requestAdapter failed/, 'the graphics card refused to start'],
  ];
  const hit = rules.find(([pattern]) => pattern.test(reason));
  return hit ? `${hit[1]} (${reason})` : reason;
}

function agreement(f: BackendFigure): string {
  if (!f.available) return 'not measured';
  if (f.backend === 'cpu') return 'is the reference';
  if (f.gradientError === null) return 'could not be checked';
  const within = f.gradientError < GRADIENT_TOLERANCE;
  return `${within ? 'yes' : 'no'}: differs by ${formatError(f.gradientError)} (at most ${formatError(GRADIENT_TOLERANCE)} allowed)`;
}

function why(f: BackendFigure, chosen: BackendFigure | undefined): string {
  if (!f.available) return plainReason(f.reason);
  if (f.verdict === 'chosen') return f.backend === 'cpu' ? 'no faster method gave the same results' : 'fastest of the methods whose results matched the reference';
  if (f.verdict === 'refused') return f.gradientError !== null && Number.isFinite(f.msPerStep) && f.msPerStep > 0 ? 'its results differ from the reference’s, so it is not trusted to train' : (f.note ?? 'it could not be checked');
  if (chosen?.available) return `${(f.msPerStep / chosen.msPerStep).toFixed(1)} times as long per step as ${BACKEND_NAMES[chosen.backend].name}`;
  return f.note ?? '';
}

/** One row per backend, always all four in the same order, so the table keeps its shape between loads. */
export function backendRows(figures: readonly BackendFigure[]): BackendRow[] {
  const chosen = figures.find((f) => f.verdict === 'chosen');
  return PROBE_ORDER.map((backend) => {
    const f: BackendFigure = figures.find((x) => x.backend === backend) ?? { backend, available: false, reason: 'not tried', verdict: 'unavailable' };
    return {
      backend,
      verdict: f.verdict,
      method: BACKEND_NAMES[backend].name,
      hardware: BACKEND_NAMES[backend].hardware,
      speed: f.available ? `${Math.round(f.samplesPerSecond).toLocaleString('en')} records/s` : 'not measured',
      agreement: agreement(f),
      result: RESULT_TEXT[f.verdict],
      why: why(f, chosen),
    };
  });
}

/** The sentence above the table: what was measured and what the tab uses. */
export function backendSummary(figures: readonly BackendFigure[]): string {
  const chosen = figures.find((f) => f.verdict === 'chosen');
  const tried = figures.filter((f) => f.available).length;
  const what = `This tab timed ${tried} of ${PROBE_ORDER.length} ways of running the model’s maths on a few training steps of this study’s model and checked each one’s results against the reference.`;
  if (!chosen) return `${what} None gave correct results, so the tab cannot train.`;
  const { name, hardware } = BACKEND_NAMES[chosen.backend];
  return `${what} It trains with ${name} (${hardware.replace(', the reference', '')}): ${why(chosen, chosen)}.`;
}
