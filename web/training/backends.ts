import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { BackendName } from '../../shared/protocol';
import type { ModelSpec } from '../../shared/tasks';
import { forgetChoice, readChoice, writeChoice } from './backendCache';
import { backendCandidates, chooseBackend, choiceCacheKey, type BackendFigure, type BackendMeasurement } from './backendChoice';
import { measureBackends, type Activation } from './backendProbe';
import type { InitResult } from './protocol';

// Vite fingerprints the binaries; tfjs must fetch them from where the build put them.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlainUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
});

export { PROBE_ORDER } from './backendChoice';

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software/i;

interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuAdapterLike {
  info?: GpuAdapterInfoLike;
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(opts?: unknown): Promise<GpuAdapterLike | null>;
}

function describeAdapter(info: GpuAdapterInfoLike | undefined): string {
  if (!info) return 'WebGPU adapter';
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((p) => p && p.trim());
  const text = [...new Set(parts)].join(' ');
  return (text || 'WebGPU adapter') + (info.isFallbackAdapter ? ' (software fallback)' : '');
}

/** A real (hardware) WebGPU adapter, or why there is none. Fallback adapters (SwiftShader) are slow. */
async function probeWebGpu(forced: boolean): Promise<{ ok: true; adapter: string } | { ok: false; reason: string }> {
  const gpu = (navigator as unknown as { gpu?: GpuLike }).gpu;
  if (!gpu) return { ok: false, reason: 'navigator.gpu is not available' };
  let adapter: GpuAdapterLike | null = null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    return { ok: false, reason: `requestAdapter failed: ${(e as Error).message}` };
  }
  if (!adapter) return { ok: false, reason: 'no WebGPU adapter' };
  const fallback = adapter.info?.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
  if (fallback && !forced) return { ok: false, reason: `fallback adapter (${describeAdapter(adapter.info)})` };
  return { ok: true, adapter: describeAdapter(adapter.info) };
}

async function activate(name: BackendName): Promise<boolean> {
  try {
    if (!(await tf.setBackend(name))) return false;
    await tf.ready();
    return tf.getBackend() === name;
  } catch {
    return false;
  }
}

async function describeActive(name: BackendName): Promise<string | undefined> {
  try {
    if (name === 'webgl') {
      const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl;
      if (!gl) return undefined;
      const ext = gl.getExtension('WEBGL_debug_renderer_info');
      return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    }
    if (name === 'wasm') {
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
      return `WebAssembly${simd ? ' SIMD' : ''}${threads ? ' threads' : ''}`;
    }
    if (name === 'cpu') return 'JavaScript (CPU)';
  } catch {
    // a description is a courtesy; never fail initialisation for it
  }
  return undefined;
}

/**
 * Makes `name` current, after checking what it would run on: WebGPU only on a real adapter (unless
 * forced), WebGL described by its renderer. `rejectSoftwareWebGl` passes over a software rasteriser,
 * which runs WebGL on the CPU, for the unmeasured choice that cannot see that it is slow.
 */
async function activateCandidate(name: BackendName, opts: { forced: boolean; rejectSoftwareWebGl: boolean }): Promise<Activation> {
  let adapter: string | undefined;
  if (name === 'webgpu') {
    const probe = await probeWebGpu(opts.forced);
    if (!probe.ok) return { ok: false, reason: probe.reason };
    adapter = probe.adapter;
  }
  if (!(await activate(name))) return { ok: false, reason: 'failed to initialise' };
  const description = adapter ?? (await describeActive(name));
  if (name === 'webgl' && description && SOFTWARE_RENDERER.test(description)) {
    if (opts.rejectSoftwareWebGl) return { ok: false, reason: `software renderer (${description})` };
    return { ok: true, adapter: `${description} (software rendering)` };
  }
  return { ok: true, ...(description ? { adapter: description } : {}) };
}

/**
 * Activates the forced backend, or the first candidate that initialises. A forced backend that
 * cannot start is an error: tests force one to exercise exactly that backend. Given the model to
 * train, backends that cannot compute its gradients (WASM for a convolutional model) are passed over,
 * and forcing one is an error. The measured choice is `chooseMeasuredBackend`.
 */
export async function selectBackend(forced?: BackendName, spec?: ModelSpec): Promise<InitResult> {
  const { candidates, skipped } = backendCandidates(forced, spec);
  for (const name of candidates) {
    const a = await activateCandidate(name, { forced: Boolean(forced), rejectSoftwareWebGl: !forced });
    if (a.ok) return { backend: name, adapter: a.adapter, skipped };
    skipped.push({ backend: name, reason: a.reason });
  }
  if (forced) {
    const why = skipped.map((s) => s.reason).join('; ');
    throw new Error(`The ${forced} backend is not available in this browser (${why})`);
  }
  throw new Error('No TensorFlow.js backend could be initialised');
}

export interface MeasuredChoiceOptions {
  /** The study's batch size: steps are timed at it. */
  batchSize?: number;
  /** Test hook (`?perturbBackend=`): that backend's gradients are made wrong; the cache is neither read nor written. */
  perturbBackend?: BackendName;
  now?: () => number;
}

/**
 * The fastest backend that computes this model's gradients correctly on this device, measured
 * (`measureBackends`, `chooseBackend`), or taken from the cache of an earlier measurement of the same
 * model on the same browser and adapter. The backends that lost are released.
 */
export async function chooseMeasuredBackend(spec: ModelSpec, opts: MeasuredChoiceOptions = {}): Promise<InitResult> {
  const now = opts.now ?? (() => performance.now());
  const { candidates, skipped } = backendCandidates(undefined, spec);
  const webgpu = await probeWebGpu(false);
  const key = choiceCacheKey({ spec, userAgent: navigator.userAgent, adapter: webgpu.ok ? webgpu.adapter : null });
  const testHook = opts.perturbBackend !== undefined;

  const cached = testHook ? null : await readChoice(key);
  if (cached) {
    const a = await activateCandidate(cached.chosen, { forced: false, rejectSoftwareWebGl: false });
    if (a.ok) return { backend: cached.chosen, adapter: a.adapter, skipped: passedOver(cached.figures), probe: { figures: cached.figures, cached: true, measuredAt: cached.measuredAt } };
    await forgetChoice(key);
  }

  const started = now();
  const measurements = await measureBackends(spec, candidates, (b) => activateCandidate(b, { forced: false, rejectSoftwareWebGl: false }), {
    ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
    ...(opts.perturbBackend ? { perturbation: { backend: opts.perturbBackend } } : {}),
  });
  const unsuited: BackendMeasurement[] = skipped.map((s) => ({ backend: s.backend, available: false, reason: s.reason }));
  const { chosen, figures } = chooseBackend([...measurements, ...unsuited]);
  for (const f of figures) if (f.backend !== chosen && f.available) releaseBackend(f.backend);
  if (!chosen) throw new Error(`No backend trains this model correctly here (${figures.map((f) => `${f.backend}: ${f.available ? f.note : f.reason}`).join('; ')})`);
  const a = await activateCandidate(chosen, { forced: false, rejectSoftwareWebGl: false });
  if (!a.ok) throw new Error(`The ${chosen} backend, measured fastest, failed to start again: ${a.reason}`);
  const measuredAt = new Date().toISOString();
  if (!testHook) await writeChoice(key, { chosen, figures, measuredAt });
  return {
    backend: chosen,
    adapter: a.adapter,
    skipped: passedOver(figures),
    probe: { figures, cached: false, measuredAt, durationMs: Math.round(now() - started) },
  };
}

const passedOver = (figures: BackendFigure[]) =>
  figures.filter((f) => f.verdict === 'refused' || f.verdict === 'unavailable').map((f) => ({ backend: f.backend, reason: (f.available ? f.note : f.reason) ?? f.verdict }));

const GPU_BACKENDS: BackendName[] = ['webgl', 'webgpu'];

/**
 * Frees a backend's device memory, compiled programs and (WebGPU) device, keeping it registered so it
 * can start again. Only when no tensor is alive: one on the backend would lose its data. CPU and WASM
 * hold nothing worth releasing.
 */
export function releaseBackend(name: BackendName): boolean {
  if (!GPU_BACKENDS.includes(name) || tf.memory().numTensors > 0) return false;
  const engine = tf.engine() as unknown as { registry: Record<string, unknown>; registryFactory: Record<string, { factory: () => tf.KernelBackend | Promise<tf.KernelBackend>; priority: number }> };
  const entry = engine.registryFactory[name];
  if (!entry || !(name in engine.registry)) return false;
  tf.removeBackend(name);
  tf.registerBackend(name, entry.factory, entry.priority);
  return true;
}

/** The GPU backends started and holding their device now (not released, or started again since). */
export function heldGpuBackends(): BackendName[] {
  const registry = (tf.engine() as unknown as { registry: Record<string, unknown> }).registry;
  return GPU_BACKENDS.filter((name) => name in registry);
}

/** Releases the current backend if it is a GPU one; `activate` must be called before the next TensorFlow.js work. */
export function releaseCurrentGpuBackend(): boolean {
  const name = tf.getBackend() as BackendName | undefined;
  return Boolean(name) && releaseBackend(name!);
}

/** Makes `name` current again (after a release, or a probe that left another current). */
export async function ensureActive(name: BackendName): Promise<void> {
  if (tf.getBackend() === name) return;
  if (!(await activate(name))) throw new Error(`The ${name} backend failed to start again`);
}

/** Runs `fn` on another backend, then restores the previous one. */
export async function withBackend<T>(name: BackendName, fn: () => Promise<T>): Promise<T> {
  const previous = tf.getBackend() as BackendName;
  if (previous === name) return fn();
  if (!(await activate(name))) throw new Error(`cannot switch to the ${name} backend`);
  try {
    return await fn();
  } finally {
    await activate(previous);
  }
}

export function currentBackend(): BackendName | null {
  return (tf.getBackend() as BackendName | undefined) ?? null;
}
