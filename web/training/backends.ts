import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { BackendName } from '../../shared/protocol';
import type { ModelSpec } from '../../shared/tasks';
import { backendCandidates } from './backendChoice';
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
 * Activates the forced backend, or the first candidate that initialises. A forced backend that
 * cannot start is an error: tests force one to exercise exactly that backend. Given the model to
 * train, backends that cannot compute its gradients (WASM for a convolutional model) are passed over,
 * and forcing one is an error.
 */
export async function selectBackend(forced?: BackendName, spec?: ModelSpec): Promise<InitResult> {
  const { candidates, skipped } = backendCandidates(forced, spec);
  for (const name of candidates) {
    let adapter: string | undefined;
    if (name === 'webgpu') {
      const probe = await probeWebGpu(Boolean(forced));
      if (!probe.ok) {
        skipped.push({ backend: name, reason: probe.reason });
        continue;
      }
      adapter = probe.adapter;
    }
    if (await activate(name)) {
      const description = adapter ?? (await describeActive(name));
      // A software rasteriser runs WebGL on the CPU, slower than the CPU backends themselves.
      if (name === 'webgl' && !forced && description && SOFTWARE_RENDERER.test(description)) {
        skipped.push({ backend: name, reason: `software renderer (${description})` });
        continue;
      }
      return { backend: name, adapter: description, skipped };
    }
    skipped.push({ backend: name, reason: 'failed to initialise' });
  }
  if (forced) {
    const why = skipped.map((s) => s.reason).join('; ');
    throw new Error(`The ${forced} backend is not available in this browser (${why})`);
  }
  throw new Error('No TensorFlow.js backend could be initialised');
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
