import type { BackendName } from '../../shared/protocol';
import type { ModelSpec } from '../../shared/tasks';

/**
 * Probe order until measured benchmarks pick the fastest correct backend: WebGPU on a real adapter,
 * WebGL, WASM, then the plain CPU.
 */
export const PROBE_ORDER: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** Whether training the model needs convolution gradients, which the WASM backend lacks (tfjs 4.22). */
export const needsConvolution = (spec: Pick<ModelSpec, 'layers'>): boolean => spec.layers.some((l) => l.type === 'conv2d' || l.type === 'maxPooling2d');

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
