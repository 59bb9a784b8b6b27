import { z } from 'zod';
import { fedAdagradOptionsSchema, fedAdagradStrategy, fedAdamOptionsSchema, fedAdamStrategy, fedYogiOptionsSchema, fedYogiStrategy } from './adaptive';
import { fedAvgOptionsSchema, fedAvgStrategy } from './fedavg';
import { fedAvgMOptionsSchema, fedAvgMStrategy } from './fedavgm';
import { fedProxOptionsSchema, fedProxStrategy } from './fedprox';
import { krumOptionsSchema, krumStrategy, multiKrumOptionsSchema, multiKrumStrategy } from './krum';
import { medianOptionsSchema, medianStrategy } from './median';
import type { Strategy, StrategyName } from './strategy';
import { trimmedMeanOptionsSchema, trimmedMeanStrategy } from './trimmedMean';

/** Every strategy by name: its options schema (with defaults) and its factory. */
export const strategies = {
  fedavg: { options: fedAvgOptionsSchema, create: fedAvgStrategy },
  fedavgm: { options: fedAvgMOptionsSchema, create: fedAvgMStrategy },
  fedprox: { options: fedProxOptionsSchema, create: fedProxStrategy },
  fedadam: { options: fedAdamOptionsSchema, create: fedAdamStrategy },
  fedyogi: { options: fedYogiOptionsSchema, create: fedYogiStrategy },
  fedadagrad: { options: fedAdagradOptionsSchema, create: fedAdagradStrategy },
  median: { options: medianOptionsSchema, create: medianStrategy },
  'trimmed-mean': { options: trimmedMeanOptionsSchema, create: trimmedMeanStrategy },
  krum: { options: krumOptionsSchema, create: krumStrategy },
  'multi-krum': { options: multiKrumOptionsSchema, create: multiKrumStrategy },
} as const satisfies { [N in StrategyName]: { options: z.ZodType; create: (options: never) => Strategy } };

/**
 * A study's aggregation setting, e.g. `{ name: 'trimmed-mean', options: { trimFraction: 0.1 } }`.
 * Parsing fills every default, so the stored configuration says exactly what ran.
 */
export const strategyConfigSchema = z.discriminatedUnion('name', [
  z.strictObject({ name: z.literal('fedavg'), options: strategies['fedavg'].options.prefault({}) }),
  z.strictObject({ name: z.literal('fedavgm'), options: strategies['fedavgm'].options.prefault({}) }),
  z.strictObject({ name: z.literal('fedprox'), options: strategies['fedprox'].options.prefault({}) }),
  z.strictObject({ name: z.literal('fedadam'), options: strategies['fedadam'].options.prefault({}) }),
  z.strictObject({ name: z.literal('fedyogi'), options: strategies['fedyogi'].options.prefault({}) }),
  z.strictObject({ name: z.literal('fedadagrad'), options: strategies['fedadagrad'].options.prefault({}) }),
  z.strictObject({ name: z.literal('median'), options: strategies['median'].options.prefault({}) }),
  z.strictObject({ name: z.literal('trimmed-mean'), options: strategies['trimmed-mean'].options.prefault({}) }),
  z.strictObject({ name: z.literal('krum'), options: strategies['krum'].options.prefault({}) }),
  z.strictObject({ name: z.literal('multi-krum'), options: strategies['multi-krum'].options.prefault({}) }),
]);
export type StrategyConfig = z.infer<typeof strategyConfigSchema>;
export type StrategyConfigInput = z.input<typeof strategyConfigSchema>;

export const defaultStrategyConfig: StrategyConfig = strategyConfigSchema.parse({ name: 'fedavg' });

/** The strategy a configuration names, its options checked and defaulted. */
export function createStrategy(config: StrategyConfigInput): Strategy {
  const c = strategyConfigSchema.parse(config);
  const create = strategies[c.name].create as (options: unknown) => Strategy;
  return create(c.options);
}
