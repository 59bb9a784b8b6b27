import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '../tasks/spec';
import { buildModel } from './model';

export interface LayersModelFiles {
  /** TensorFlow.js layers-model JSON: topology plus a manifest pointing at `weightsPath`. */
  modelJson: tf.io.ModelJSON;
  /** The weights, little-endian float32, in manifest order. */
  weightsBin: Uint8Array<ArrayBuffer>;
}

/**
 * A model version as the two files `tf.loadLayersModel('…/model.json')` loads: the spec's topology
 * and these weights. `metadata` lands in `userDefinedMetadata` (study, version, content hash).
 */
export async function toLayersModelFiles(
  spec: ModelSpec,
  weights: Float32Array[],
  opts: { weightsPath?: string; metadata?: Record<string, string | number | boolean> } = {},
): Promise<LayersModelFiles> {
  const model = buildModel(spec, weights);
  let artifacts: tf.io.ModelArtifacts | undefined;
  try {
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  } finally {
    model.dispose();
  }
  if (!artifacts?.modelTopology || !artifacts.weightSpecs || !artifacts.weightData) throw new Error('TensorFlow.js saved no model artifacts');
  const data = artifacts.weightData;
  const weightsBin = new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data);
  return {
    modelJson: {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: 'Consilium',
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: [opts.weightsPath ?? 'weights.bin'], weights: artifacts.weightSpecs }],
      ...(opts.metadata ? { userDefinedMetadata: opts.metadata } : {}),
    },
    weightsBin,
  };
}
