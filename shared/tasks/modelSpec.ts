import { mulberry32 } from '../synthetic/rng';
import type { Layer, ModelSpec, ResidualBlockLayer, Size2d } from './spec';

export interface WeightShape {
  name: string;
  shape: number[];
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** `[rows, columns]` of a window or stride given as one number or a pair. */
export function size2d(s: Size2d): [number, number] {
  return typeof s === 'number' ? [s, s] : [s[0], s[1]];
}

/** The shape of one input sample: `inputShape`, or `[inputDim]` for a flat (tabular) model. */
export function modelInputShape(spec: Pick<ModelSpec, 'inputDim' | 'inputShape'>): number[] {
  if (spec.inputShape) return [...spec.inputShape];
  if (spec.inputDim !== undefined) return [spec.inputDim];
  throw new RangeError('a model spec needs inputDim or inputShape');
}

/** Values in one input sample (the width of a row of a Dataset). */
export function modelInputSize(spec: Pick<ModelSpec, 'inputDim' | 'inputShape'>): number {
  return product(modelInputShape(spec));
}

class LayerError extends RangeError {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(`layer ${index} (${message})`);
  }
}

/**
 * Spatial size after a convolution or pooling window, exactly as TensorFlow.js computes it: 'same'
 * keeps `ceil(n / stride)`, 'valid' keeps the windows that fit, `ceil((n - window + 1) / stride)`.
 */
function windowOutput(n: number, window: number, stride: number, padding: 'same' | 'valid'): number {
  return padding === 'same' ? Math.ceil(n / stride) : Math.ceil((n - window + 1) / stride);
}

function spatial(index: number, layer: Layer, input: number[], window: [number, number], strides: [number, number], padding: 'same' | 'valid'): [number, number] {
  if (input.length !== 3) throw new LayerError(index, `${layer.type} takes [height, width, channels] inputs, not [${input}]`);
  const rows = windowOutput(input[0], window[0], strides[0], padding);
  const cols = windowOutput(input[1], window[1], strides[1], padding);
  if (rows < 1 || cols < 1) throw new LayerError(index, `${layer.type} leaves nothing of a [${input}] input`);
  return [rows, cols];
}

/** The shape of one sample after each layer (no batch axis); throws when the layers do not fit together. */
export function layerOutputShapes(spec: ModelSpec): number[][] {
  let shape = modelInputShape(spec);
  return spec.layers.map((layer, i) => {
    switch (layer.type) {
      case 'dense':
        if (shape.length !== 1) throw new LayerError(i, `dense takes a flat input, not [${shape}]: flatten it first`);
        shape = [layer.units];
        break;
      case 'conv2d': {
        const [rows, cols] = spatial(i, layer, shape, size2d(layer.kernelSize), size2d(layer.strides ?? 1), layer.padding);
        shape = [rows, cols, layer.filters];
        break;
      }
      case 'maxPooling2d': {
        const pool = size2d(layer.poolSize);
        const [rows, cols] = spatial(i, layer, shape, pool, size2d(layer.strides ?? layer.poolSize), layer.padding ?? 'valid');
        shape = [rows, cols, shape[2]];
        break;
      }
      case 'flatten':
        shape = [product(shape)];
        break;
      case 'residualBlock': {
        const groups = residualGroups(layer);
        if (layer.filters % groups !== 0) throw new LayerError(i, `${groups} norm groups do not divide ${layer.filters} filters`);
        const stride = layer.strides ?? 1;
        const [rows, cols] = spatial(i, layer, shape, [3, 3], [stride, stride], 'same');
        shape = [rows, cols, layer.filters];
        break;
      }
      case 'globalAveragePooling2d':
        if (shape.length !== 3) throw new LayerError(i, `globalAveragePooling2d takes [height, width, channels] inputs, not [${shape}]`);
        shape = [shape[2]];
        break;
    }
    return shape;
  });
}

/** Width of the model's output: 1 for a binary model, the number of classes for a softmax one. */
export function outputUnits(spec: ModelSpec): number {
  const shapes = layerOutputShapes(spec);
  return product(shapes[shapes.length - 1]);
}

/** Why a spec cannot be built, with the path of the offending field; null when it can. */
export function modelSpecProblem(spec: ModelSpec): { message: string; path: (string | number)[] } | null {
  if (spec.inputDim === undefined && spec.inputShape === undefined) return { message: 'give inputDim or inputShape', path: ['inputDim'] };
  if (spec.inputDim !== undefined && spec.inputShape !== undefined && product(spec.inputShape) !== spec.inputDim) {
    return { message: `inputShape [${spec.inputShape}] does not hold inputDim ${spec.inputDim} values`, path: ['inputShape'] };
  }
  try {
    layerOutputShapes(spec);
  } catch (e) {
    if (e instanceof LayerError) return { message: e.message, path: ['layers', e.index] };
    throw e;
  }
  const i = spec.layers.length - 1;
  const last = spec.layers[i];
  if (last.type !== 'dense') return { message: 'the last layer must be dense (the output)', path: ['layers', i] };
  if (spec.loss === 'binaryCrossentropy' && (last.units !== 1 || last.activation !== 'sigmoid')) {
    return { message: 'binary cross-entropy takes one sigmoid output unit', path: ['layers', i] };
  }
  if (spec.loss === 'categoricalCrossentropy' && (last.units < 2 || last.activation !== 'softmax')) {
    return { message: 'categorical cross-entropy takes a softmax over two or more units', path: ['layers', i] };
  }
  return null;
}

/** GroupNorm groups of a residual block (default 8). */
export function residualGroups(layer: ResidualBlockLayer): number {
  return layer.groups ?? 8;
}

/** Whether a residual block's shortcut needs a 1×1 projection: it strides, or changes the width. */
export function residualProjects(layer: ResidualBlockLayer, inputChannels: number): boolean {
  return (layer.strides ?? 1) !== 1 || inputChannels !== layer.filters;
}

/**
 * Each layer's weight tensors, in the order its TensorFlow.js layer creates them. A residual block:
 * conv1 kernel, norm1 gamma and beta, conv2 kernel, norm2 gamma and beta, then (when it projects)
 * the shortcut's 1×1 kernel and its norm's gamma and beta.
 */
export function layerWeightShapes(spec: ModelSpec): WeightShape[][] {
  const outputs = layerOutputShapes(spec);
  return spec.layers.map((layer, i) => {
    const input = i === 0 ? modelInputShape(spec) : outputs[i - 1];
    switch (layer.type) {
      case 'dense':
        return [
          { name: `dense_${i}/kernel`, shape: [input[0], layer.units] },
          { name: `dense_${i}/bias`, shape: [layer.units] },
        ];
      case 'conv2d':
        return [
          { name: `conv2d_${i}/kernel`, shape: [...size2d(layer.kernelSize), input[2], layer.filters] },
          { name: `conv2d_${i}/bias`, shape: [layer.filters] },
        ];
      case 'residualBlock': {
        const f = layer.filters;
        const norm = (part: string) => [
          { name: `residual_${i}/${part}/gamma`, shape: [f] },
          { name: `residual_${i}/${part}/beta`, shape: [f] },
        ];
        return [
          { name: `residual_${i}/conv1/kernel`, shape: [3, 3, input[2], f] },
          ...norm('norm1'),
          { name: `residual_${i}/conv2/kernel`, shape: [3, 3, f, f] },
          ...norm('norm2'),
          ...(residualProjects(layer, input[2]) ? [{ name: `residual_${i}/shortcut/kernel`, shape: [1, 1, input[2], f] }, ...norm('shortcutNorm')] : []),
        ];
      }
      default:
        return [];
    }
  });
}

/**
 * Shapes of the trainable tensors in the order TensorFlow.js's `model.getWeights()` lists them: layer
 * by layer, kernel then bias. Dense kernels are `[in, units]`; convolution kernels
 * `[kernelRows, kernelCols, inChannels, filters]`. Pooling and flatten layers hold none; a residual
 * block holds its convolutions' kernels and its norms' gammas and betas (`layerWeightShapes`).
 * Every weight is trainable: there are no non-trainable ones (no BatchNorm moving statistics).
 */
export function weightShapes(spec: ModelSpec): WeightShape[] {
  return layerWeightShapes(spec).flat();
}

export function parameterCount(spec: ModelSpec): number {
  return weightShapes(spec).reduce((s, w) => s + product(w.shape), 0);
}

/** Trainable values each layer holds, one entry per layer; pooling and flatten hold none. */
export function layerParameterCounts(spec: ModelSpec): number[] {
  return layerWeightShapes(spec).map((ws) => ws.reduce((s, w) => s + product(w.shape), 0));
}

/**
 * Seeded Glorot-uniform kernels, zero biases and norm betas, norm gammas of 1 (a norm starts as a
 * plain standardisation): the server creates version 0 with this, so a study's
 * starting point depends only on its spec and seed, and the server never needs TensorFlow.js. Fans
 * as Keras counts them: a kernel `[...window, in, out]` has fan-in `window × in`, fan-out `window × out`.
 */
export function initialWeights(spec: ModelSpec, seed: number): Float32Array[] {
  const rand = mulberry32(seed);
  return weightShapes(spec).map(({ name, shape }) => {
    const out = new Float32Array(product(shape));
    if (name.endsWith('/kernel')) {
      const receptive = product(shape.slice(0, -2));
      const fanIn = receptive * shape[shape.length - 2];
      const fanOut = receptive * shape[shape.length - 1];
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < out.length; i++) out[i] = (rand() * 2 - 1) * limit;
    } else if (name.endsWith('/gamma')) {
      out.fill(1);
    }
    return out;
  });
}
