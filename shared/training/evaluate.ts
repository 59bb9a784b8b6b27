import * as tf from '@tensorflow/tfjs';
import { binaryAccuracy, logLoss, PROBABILITY_EPSILON } from '../metrics/binary';
import { binaryClinicalMetrics, multiclassClinicalMetrics, type ClinicalMetrics, type ClinicalOptions } from '../metrics/clinical';
import { argmaxRows } from '../metrics/multiclass';
import { outputUnits } from '../tasks/modelSpec';
import type { ModelSpec } from '../tasks/spec';
import type { Dataset } from './dataset';
import { buildModel } from './model';
import { isBlockSource, type TrainingData } from './stream';
import { checkDataset, labelMatrix } from './train';

export interface Evaluation {
  loss: number;
  accuracy: number;
  numSamples: number;
  /** Softmax models: counts of (true class, arg-max class), `confusionMatrix[actual][predicted]`. */
  confusionMatrix?: number[][];
  /**
   * AUROC, sensitivity, specificity, calibration (binary); per-class recall, macro-F1 (multi-class); and
   * the score histograms the server pools AUROC and ROC from exactly (../metrics/histogram.ts).
   */
  clinical: ClinicalMetrics;
}

const CHUNK_ROWS = 4096;
/** Input values per chunk: images go through in smaller chunks than tabular rows. */
const CHUNK_VALUES = 1 << 18;

/**
 * The model's outputs for every sample, `n × units`, computed in chunks to bound memory. Samples are
 * reshaped to the model's input shape.
 */
export async function predict(model: tf.LayersModel, data: Dataset, units: number): Promise<Float32Array> {
  const out = new Float32Array(data.n * units);
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  const chunk = Math.max(1, Math.min(CHUNK_ROWS, Math.floor(CHUNK_VALUES / Math.max(1, data.width))));
  for (let start = 0; start < data.n; start += chunk) {
    const rows = Math.min(chunk, data.n - start);
    const y = tf.tidy(() => {
      const xs = tf.tensor(data.x.slice(start * data.width, (start + rows) * data.width), [rows, ...inputShape], 'float32');
      return model.predict(xs) as tf.Tensor;
    });
    try {
      out.set(await y.data<'float32'>(), start * units);
    } finally {
      y.dispose();
    }
  }
  return out;
}

/**
 * Loss and accuracy of `weights` on `data`. Binary outputs: binary cross-entropy and accuracy at 0.5
 * (`shared/metrics`); softmax outputs: categorical cross-entropy, arg-max accuracy and the confusion
 * matrix. The clinical metrics carry score histograms unless `options.histogram` is false (what a
 * differentially private study must say until it noises them).
 */
export async function evaluateModel(spec: ModelSpec, weights: Float32Array[], data: TrainingData, options: ClinicalOptions = {}): Promise<Evaluation> {
  checkDataset(spec, data);
  const units = outputUnits(spec);
  const model = buildModel(spec, weights);
  let outputs: Float32Array;
  let labels: Float32Array;
  try {
    if (isBlockSource(data)) {
      // Streamed: one stored block at a time; only outputs and labels (n × units) are kept.
      outputs = new Float32Array(data.n * units);
      labels = new Float32Array(data.n * units);
      let offset = 0;
      for (let b = 0; b < data.blockSizes.length; b++) {
        const block = await data.readBlock(b);
        checkDataset(spec, block);
        outputs.set(await predict(model, block, units), offset);
        labels.set(labelMatrix(spec, block), offset);
        offset += block.n * units;
      }
      if (offset !== outputs.length) throw new RangeError(`blocks held ${offset / units} samples, not ${data.n}`);
    } else {
      labels = labelMatrix(spec, data);
      outputs = await predict(model, data, units);
    }
  } finally {
    model.dispose();
  }
  if (spec.loss === 'binaryCrossentropy') {
    return {
      loss: logLoss(outputs, labels),
      accuracy: binaryAccuracy(outputs, labels),
      numSamples: data.n,
      clinical: binaryClinicalMetrics(outputs, labels, options),
    };
  }
  let loss = 0;
  let correct = 0;
  const confusionMatrix = Array.from({ length: units }, () => new Array<number>(units).fill(0));
  for (let i = 0; i < data.n; i++) {
    let best = 0;
    let truth = 0;
    for (let k = 0; k < units; k++) {
      const p = outputs[i * units + k];
      const y = labels[i * units + k];
      if (y > 0) loss -= y * Math.log(Math.min(1 - PROBABILITY_EPSILON, Math.max(PROBABILITY_EPSILON, p)));
      if (p > outputs[i * units + best]) best = k;
      if (y > labels[i * units + truth]) truth = k;
    }
    if (best === truth) correct++;
    confusionMatrix[truth][best]++;
  }
  return {
    loss: data.n ? loss / data.n : 0,
    accuracy: data.n ? correct / data.n : 0,
    numSamples: data.n,
    confusionMatrix,
    clinical: multiclassClinicalMetrics(outputs, argmaxRows(labels, units), units, options),
  };
}
