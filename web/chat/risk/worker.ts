import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
import { foldAttributions, integratedGradients, meanPatient } from '../../../shared/explain/integratedGradients';
import { encodeRecords } from '../../../shared/tasks/encoding';
import type { AssessArgs, RiskAssessment, RiskBackend, RiskWorkerApi } from './protocol';

/**
 * The patient's risk check, off the page's thread: loads the approved model (TF.js layers format)
 * and computes the estimate and its explanation. Inference only, never training.
 */

let loaded: { url: string; model: tf.LayersModel; version: number } | null = null;
let loading: Promise<{ url: string; model: tf.LayersModel; version: number }> | null = null;

// A 13 → 16 → 1 network runs in well under a millisecond on the CPU backend; WebGL would spend longer
// compiling shaders than computing. `?backend=webgl` on the page asks for it all the same.
async function useBackend(name: RiskBackend): Promise<void> {
  if (tf.getBackend() === name) return;
  if (!(await tf.setBackend(name))) await tf.setBackend('cpu');
  await tf.ready();
}

async function loadModel(modelUrl: string, backend: RiskBackend) {
  await useBackend(backend);
  if (loaded?.url === modelUrl) return loaded;
  // Always revalidate: `approved` moves when the study approves another version.
  const model = await tf.loadLayersModel(tf.io.http(modelUrl, { requestInit: { cache: 'no-cache', credentials: 'omit' } }));
  const version = Number((model.getUserDefinedMetadata() as { version?: unknown } | undefined)?.version);
  loaded?.model.dispose();
  loaded = { url: modelUrl, model, version: Number.isInteger(version) ? version : -1 };
  return loaded;
}

let backendWanted: RiskBackend = 'cpu';

const api: RiskWorkerApi = {
  async load(modelUrl, backend = backendWanted) {
    backendWanted = backend;
    loading = loadModel(modelUrl, backend);
    const { version } = await loading;
    return { version, backend: tf.getBackend() };
  },

  async assess({ modelUrl, features, values }: AssessArgs): Promise<RiskAssessment> {
    const { model, version } = loaded?.url === modelUrl ? loaded : await (loading ?? loadModel(modelUrl, backendWanted));
    // Exactly as the sites encode a record: the study's means, standard deviations and modes.
    const x = encodeRecords(features, [{ id: 'me', values, label: 0 }]).x;
    const baseline = meanPatient(features);
    const ig = integratedGradients(model, x, baseline, { steps: 64, tolerance: 1e-3 });
    const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
    return {
      probability: sigmoid(ig.logit),
      baselineProbability: sigmoid(ig.baselineLogit),
      logit: ig.logit,
      baselineLogit: ig.baselineLogit,
      attributions: foldAttributions(features, ig.attributions),
      gap: ig.gap,
      steps: ig.steps,
      version,
      backend: tf.getBackend(),
    };
  },
};

Comlink.expose(api);
