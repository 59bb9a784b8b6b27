import { layerOutputShapes, layerParameterCounts, modelInputShape, size2d } from '../../shared/tasks/modelSpec';
import type { Layer, ModelSpec, Size2d } from '../../shared/tasks/spec';

/** One box of the drawn architecture: the input, or a layer with what it does and what it makes. */
export interface ModelGraphNode {
  /** `input`, or the layer's type. */
  kind: 'input' | Layer['type'];
  title: string;
  /** Its settings, in words: units or filters, window, stride, padding, activation. */
  details: string[];
  activation: string | null;
  /** One sample's shape after this node (no batch axis). */
  shape: number[];
  /** Trainable values the node holds; 0 for the input, pooling and flatten. */
  parameters: number;
}

export interface ModelGraph {
  nodes: ModelGraphNode[];
  /** Equal to `parameterCount(spec)`: the sum over the layers. */
  totalParameters: number;
  /** Bytes of one float32 copy of the weights, as a version is stored and downloaded. */
  weightBytes: number;
  loss: string;
  optimizer: string;
}

const TITLES: Record<Layer['type'], string> = {
  dense: 'Dense',
  conv2d: 'Conv2D',
  maxPooling2d: 'MaxPooling2D',
  flatten: 'Flatten',
  residualBlock: 'Residual block',
  globalAveragePooling2d: 'GlobalAveragePooling2D',
};

const LOSSES: Record<ModelSpec['loss'], string> = {
  binaryCrossentropy: 'binary cross-entropy',
  categoricalCrossentropy: 'categorical cross-entropy',
};

const windowText = (s: Size2d) => size2d(s).join('×');

/** `32×32×1`: a shape as the graph writes it. */
export function shapeText(shape: readonly number[]): string {
  return shape.join('×');
}

/** `8,481`: counts with thousands separators, the same in every locale (tests and screenshots agree). */
export function countText(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function details(layer: Layer): string[] {
  switch (layer.type) {
    case 'dense':
      return [`${layer.units} ${layer.units === 1 ? 'unit' : 'units'}`];
    case 'conv2d':
      return [`${layer.filters} filters`, `${windowText(layer.kernelSize)} kernel`, `stride ${windowText(layer.strides ?? 1)}`, `${layer.padding} padding`];
    case 'maxPooling2d':
      return [`${windowText(layer.poolSize)} pool`, `stride ${windowText(layer.strides ?? layer.poolSize)}`, `${layer.padding ?? 'valid'} padding`];
    case 'flatten':
      return ['to one vector'];
    case 'residualBlock':
      return [`${layer.filters} filters`, '2 × 3×3 conv', `stride ${layer.strides ?? 1}`, `GroupNorm, ${layer.groups ?? 8} groups`];
    case 'globalAveragePooling2d':
      return ['mean of each channel'];
  }
}

/** The architecture of a model spec as a vertical chain of boxes, input first; throws on a spec whose layers do not fit. */
export function modelGraph(spec: ModelSpec): ModelGraph {
  const shapes = layerOutputShapes(spec);
  const parameters = layerParameterCounts(spec);
  const last = spec.layers.length - 1;
  const nodes: ModelGraphNode[] = [
    { kind: 'input', title: 'Input', details: [], activation: null, shape: modelInputShape(spec), parameters: 0 },
    ...spec.layers.map((layer, i) => ({
      kind: layer.type,
      title: i === last ? `${TITLES[layer.type]} (output)` : TITLES[layer.type],
      details: details(layer),
      activation: 'activation' in layer ? layer.activation : null,
      shape: shapes[i],
      parameters: parameters[i],
    })),
  ];
  const totalParameters = parameters.reduce((a, b) => a + b, 0);
  return { nodes, totalParameters, weightBytes: totalParameters * 4, loss: LOSSES[spec.loss], optimizer: spec.optimizer };
}
