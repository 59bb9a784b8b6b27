import { fedAvg, type WeightedUpdate } from '../fl/fedavg';
import { deriveSeed } from '../synthetic/rng';
import { heartRisk } from '../tasks/heartRisk';
import { initialWeights } from '../tasks/modelSpec';
import type { TaskTemplate } from '../tasks/spec';
import { concat } from './dataset';
import { evaluateModel } from './evaluate';
import { baselineFigures, DEMO_ROUNDS, demoSplits, type BaselineResult, type DemoProfile } from './central';
import { localWork, trainLocal } from './train';

export interface FederatedSimOptions<P extends DemoProfile = DemoProfile> {
  template?: TaskTemplate;
  /** Default: the template's demo hospitals. */
  hospitals?: P[];
  rounds?: number;
  /** Local work in optimiser steps per round, the same for every site; default: the template's local epochs. */
  localSteps?: number;
}

export interface FederatedSimResult extends BaselineResult {
  /** Pooled validation accuracy after each round. */
  accuracyByRound: number[];
}

/**
 * The demo federation in one process: every hospital trains each round from the global weights on its
 * training split (the template's local epochs, or `localSteps` steps, batch size and learning rate), and the global model
 * moves by the server's own aggregation (shared/fl `fedAvg`, sample-weighted mean of the deltas). A
 * quick check that federation gets close to pooling.
 */
export async function simulateFederated<P extends DemoProfile>(options: FederatedSimOptions<P> = {}): Promise<FederatedSimResult> {
  const template = options.template ?? heartRisk;
  const { defaults, model: spec } = template;
  const sites = demoSplits(template, options.hospitals);
  const validation = concat(sites.map((s) => s.validation));
  const rounds = options.rounds ?? DEMO_ROUNDS;
  let global = initialWeights(spec, defaults.seed);
  const accuracyByRound: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const updates: WeightedUpdate[] = [];
    for (const site of sites) {
      const { delta, numSamples } = await trainLocal({
        spec,
        weights: global,
        data: site.train,
        ...localWork({ localEpochs: defaults.localEpochs, localSteps: options.localSteps }),
        batchSize: defaults.batchSize,
        learningRate: defaults.learningRate,
        seed: deriveSeed(defaults.seed, `round-${round}:${site.profile.id}`),
      });
      updates.push({ participantId: site.profile.id, numSamples, delta });
    }
    global = fedAvg(global, updates);
    accuracyByRound.push((await evaluateModel(spec, global, validation)).accuracy);
  }
  const evaluation = await evaluateModel(spec, global, validation);
  return {
    ...baselineFigures(template, evaluation, validation),
    trainSamples: sites.reduce((s, site) => s + site.train.n, 0),
    validationSamples: validation.n,
    accuracyByRound,
  };
}
