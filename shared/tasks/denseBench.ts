import { parameterCount } from './modelSpec';
import { taskTemplateSchema, type Feature, type TaskTemplate } from './spec';

/**
 * A synthetic dense model of about a given size, for benchmarks only (`scripts/bench-round.ts`, via
 * the server's `BENCH_STUDY`): nobody trains it, it gives the server's round path a model of any size.
 */
export const DENSE_BENCH_TEMPLATE_ID = 'bench-dense';

/** Inputs, hidden layers and widths tried, so statistics stay small (≤ 64 numeric features). */
const MAX_INPUTS = 64;
const MAX_HIDDEN_LAYERS = 4;
const MAX_UNITS = 4096;

export interface DenseBenchLayout {
  inputs: number;
  /** Units of each hidden ReLU layer; a one-unit sigmoid output follows. */
  hidden: number[];
  params: number;
}

const countOf = (inputs: number, layers: number, units: number) => inputs * units + units + (layers - 1) * (units * units + units) + units + 1;

/** The smallest model this template makes (one input, one hidden unit). */
export const DENSE_BENCH_MIN_PARAMS = countOf(1, 1, 1);
/** The largest (64 inputs, four hidden layers of 4096). */
export const DENSE_BENCH_MAX_PARAMS = countOf(MAX_INPUTS, MAX_HIDDEN_LAYERS, MAX_UNITS);

/**
 * The layout nearest `params`: the fewest hidden layers that come within 0.1 % of it (else the
 * nearest of all), then the most balanced inputs and width (385 gives the heart model's 22 × 16).
 */
export function denseBenchLayout(params: number): DenseBenchLayout {
  if (!Number.isInteger(params) || params < DENSE_BENCH_MIN_PARAMS || params > DENSE_BENCH_MAX_PARAMS)
    throw new RangeError(`a dense bench model has ${DENSE_BENCH_MIN_PARAMS} to ${DENSE_BENCH_MAX_PARAMS} parameters, not ${params}`);
  type Candidate = { err: number; balance: number; layers: number; inputs: number; units: number };
  let nearest: Candidate | null = null;
  for (let layers = 1; layers <= MAX_HIDDEN_LAYERS; layers++) {
    let best: Candidate | null = null as Candidate | null;
    for (let inputs = 1; inputs <= MAX_INPUTS; inputs++)
      for (let units = 1; units <= MAX_UNITS; units++) {
        const n = countOf(inputs, layers, units);
        const err = Math.abs(n - params);
        const balance = Math.min(inputs, units);
        if (!best || err < best.err || (err === best.err && balance > best.balance)) best = { err, balance, layers, inputs, units };
        if (n >= params) break;
      }
    if (best && (!nearest || best.err < nearest.err)) nearest = best;
    if (nearest && nearest.err <= params * 0.001) break;
  }
  const { inputs, layers, units } = nearest!;
  return { inputs, hidden: Array<number>(layers).fill(units), params: countOf(inputs, layers, units) };
}

/** A tabular template of numeric features `x0…` and a dense ReLU network of about `params` parameters. */
export function denseBenchTemplate(params: number): TaskTemplate {
  const layout = denseBenchLayout(params);
  const features: Feature[] = Array.from({ length: layout.inputs }, (_, i) => ({
    kind: 'numeric',
    name: `x${i}`,
    label: `Input ${i}`,
    min: -1e6,
    max: 1e6,
    mean: 0,
    std: 1,
    integer: false,
  }));
  const template = taskTemplateSchema.parse({
    id: DENSE_BENCH_TEMPLATE_ID,
    name: `Dense benchmark model (${layout.params} parameters)`,
    description: 'Synthetic: a dense network of a chosen size, for benchmarks of the server; not a clinical task.',
    label: { name: 'y', description: 'Synthetic label', positive: 'one', negative: 'zero' },
    features,
    model: {
      inputDim: layout.inputs,
      layers: [...layout.hidden.map((units) => ({ type: 'dense', units, activation: 'relu' })), { type: 'dense', units: 1, activation: 'sigmoid' }],
      loss: 'binaryCrossentropy',
      optimizer: 'sgd',
    },
    defaults: {
      rounds: 1,
      minParticipants: 1,
      roundDeadlineMs: 3_600_000,
      localEpochs: 1,
      batchSize: 32,
      learningRate: 0.01,
      validationFraction: 0.2,
      seed: 2026,
    },
  });
  if (parameterCount(template.model) !== layout.params) throw new Error('dense bench layout and model disagree');
  return template;
}
