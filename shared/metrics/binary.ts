/**
 * Metrics of a binary classifier over plain arrays: `probs[i]` is the predicted probability that row i
 * is positive, `labels[i]` its 0/1 label. Empty inputs score 0, so a site without validation rows
 * reports numbers a schema accepts; its sample count of 0 says they mean nothing.
 */

/** Same clipping as Keras and TensorFlow.js apply before taking logs. */
export const PROBABILITY_EPSILON = 1e-7;

function checkLengths(probs: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (probs.length !== labels.length) throw new RangeError(`${probs.length} predictions against ${labels.length} labels`);
}

/** Fraction of rows whose prediction (`prob > threshold`, as Keras decides) matches the label. */
export function binaryAccuracy(probs: ArrayLike<number>, labels: ArrayLike<number>, threshold = 0.5): number {
  checkLengths(probs, labels);
  if (labels.length === 0) return 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if ((probs[i] > threshold ? 1 : 0) === (labels[i] > 0.5 ? 1 : 0)) correct++;
  return correct / labels.length;
}

/** Mean binary cross-entropy (natural log), probabilities clipped to [ε, 1 − ε]. */
export function logLoss(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkLengths(probs, labels);
  if (labels.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - PROBABILITY_EPSILON, Math.max(PROBABILITY_EPSILON, probs[i]));
    const y = labels[i];
    sum -= y * Math.log(p) + (1 - y) * Math.log(1 - p);
  }
  return sum / labels.length;
}

/** Accuracy of always predicting the more common label: the bar a model must clear. */
export function majorityRate(labels: ArrayLike<number>): number {
  if (labels.length === 0) return 0;
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] > 0.5) positives++;
  return Math.max(positives, labels.length - positives) / labels.length;
}

export interface ConfusionMatrix {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export function confusionMatrix(probs: ArrayLike<number>, labels: ArrayLike<number>, threshold = 0.5): ConfusionMatrix {
  checkLengths(probs, labels);
  const m: ConfusionMatrix = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < labels.length; i++) {
    const predicted = probs[i] > threshold;
    const actual = labels[i] > 0.5;
    if (predicted) actual ? m.tp++ : m.fp++;
    else actual ? m.fn++ : m.tn++;
  }
  return m;
}

/**
 * Area under the ROC curve: the probability that a random positive scores above a random negative,
 * ties counting half (Mann–Whitney). 0.5 when either class is absent.
 */
export function auroc(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkLengths(probs, labels);
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => probs[a] - probs[b]);
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    while (end + 1 < n && probs[order[end + 1]] === probs[order[start]]) end++;
    const midRank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      if (labels[order[k]] > 0.5) {
        positives++;
        rankSum += midRank;
      }
    }
    start = end + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return 0.5;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
