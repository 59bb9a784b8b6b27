import * as tf from '@tensorflow/tfjs';
import { initialWeights, modelInputShape, residualGroups, size2d, weightShapes } from '../tasks/modelSpec';
import type { Layer, ModelSpec } from '../tasks/spec';
import { registerFastCpuKernels } from './cpuKernels';
import { ResidualBlock } from './residualBlock';

// Kernels start at zero rather than tfjs's unseeded Glorot; buildModel then loads the real weights.
const zeroInit = { useBias: true, kernelInitializer: 'zeros', biasInitializer: 'zeros' } as const;

function toTfLayer(layer: Layer, input: { inputShape?: number[] }): tf.layers.Layer {
  switch (layer.type) {
    case 'dense':
      return tf.layers.dense({ units: layer.units, activation: layer.activation, ...zeroInit, ...input });
    case 'conv2d':
      return tf.layers.conv2d({
        filters: layer.filters,
        kernelSize: size2d(layer.kernelSize),
        strides: size2d(layer.strides ?? 1),
        padding: layer.padding,
        activation: layer.activation,
        dataFormat: 'channelsLast',
        ...zeroInit,
        ...input,
      });
    case 'maxPooling2d':
      return tf.layers.maxPooling2d({
        poolSize: size2d(layer.poolSize),
        strides: size2d(layer.strides ?? layer.poolSize),
        padding: layer.padding ?? 'valid',
        dataFormat: 'channelsLast',
        ...input,
      });
    case 'flatten':
      return tf.layers.flatten(input);
    case 'residualBlock':
      return new ResidualBlock({ filters: layer.filters, strides: layer.strides ?? 1, groups: residualGroups(layer), ...input });
    case 'globalAveragePooling2d':
      return tf.layers.globalAveragePooling2d({ dataFormat: 'channelsLast', ...input });
  }
}

/**
 * The model a spec describes, uncompiled (training and evaluation drive it directly), taking samples
 * of `modelInputShape(spec)`. It holds `weights`, or `initialWeights(spec, 0)`.
 */
export function buildModel(spec: ModelSpec, weights?: Float32Array[]): tf.Sequential {
  registerFastCpuKernels();
  const inputShape = modelInputShape(spec);
  const model = tf.sequential();
  spec.layers.forEach((layer, i) => model.add(toTfLayer(layer, i === 0 ? { inputShape } : {})));
  setModelWeights(model, weights ?? initialWeights(spec, 0), spec);
  return model;
}

/** Load flat weights (in `weightShapes(spec)` order) into the model; throws on a size mismatch. */
export function setModelWeights(model: tf.LayersModel, weights: Float32Array[], spec: ModelSpec): void {
  const shapes = weightShapes(spec);
  if (weights.length !== shapes.length) {
    throw new RangeError(`the model takes ${shapes.length} weight tensors, got ${weights.length}`);
  }
  const tensors = shapes.map(({ name, shape }, i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    if (weights[i].length !== size) throw new RangeError(`${name} takes ${size} values, got ${weights[i].length}`);
    return tf.tensor(weights[i], shape, 'float32');
  });
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
}

/** The model's weights as fresh arrays (never views of backend memory). */
export async function getModelWeights(model: tf.LayersModel): Promise<Float32Array[]> {
  // getWeights() hands out the live variables: read them, never dispose them.
  const values = await Promise.all(model.getWeights().map((t) => t.data<'float32'>()));
  return values.map((v) => Float32Array.from(v));
}
