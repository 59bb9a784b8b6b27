import { z } from 'zod';
import { strategyNames } from './strategy';

/** How one update fared in a round's aggregation, for the admin console. */
export const updateReportSchema = z.object({
  participantId: z.string(),
  /** As the site declared them. */
  numSamples: z.number(),
  /** Weighted by fewer samples than declared: the round's sample cap (see shared/fl/bounds.ts). */
  capped: z.boolean().optional(),
  /** L2 norm of the update as received, before any clipping. */
  norm: z.number(),
  /** Scaled down to the round's norm bound. */
  clipped: z.boolean(),
  /** The factor it was scaled by (1 when not clipped). */
  scale: z.number(),
  /** Entered the aggregate (false for updates Krum passed over). */
  selected: z.boolean(),
  /** Its share of a weighted average; null for coordinate-wise rules, where no update has one share. */
  weight: z.number().nullable(),
  /** Krum score (sum of squared distances to its nearest neighbours); null for other rules. */
  score: z.number().nullable(),
  /**
   * L2 distance from the (clipped) update to the combined update: outliers stand out here. The
   * server measures it after the round has closed (off the round's critical path): null until then.
   */
  distance: z.number().nullable(),
});
export type UpdateReport = z.infer<typeof updateReportSchema>;

export const aggregationReportSchema = z.object({
  strategy: z.enum(strategyNames),
  /** The round's clipping bound (see shared/fl/clipping.ts); null when norm bounding is off. */
  normBound: z.number().nullable(),
  /** The clipping rule that set it; absent in reports from before it was recorded. */
  clipMode: z.enum(['adaptive', 'fixed', 'median', 'none']).optional(),
  /** The most samples one update was weighted by; null: uncapped; absent in older reports. */
  sampleCap: z.number().nullable().optional(),
  /** Stored optimiser state belonged to another strategy and was not used. */
  stateReset: z.boolean(),
  /** In participant-id order. */
  updates: z.array(updateReportSchema),
  /** Rule-specific figures: f and neighbours for Krum, trimmed per side, server step norm, mu... */
  details: z.record(z.string(), z.number()),
  /** When the round's policy closed it to updates and its aggregation began (ISO); absent in older reports. */
  startedAt: z.string().optional(),
  /**
   * Under differential privacy: the fixed denominator q·W the weighted sum was divided by, the
   * standard deviation of the Gaussian noise added to each coordinate of the mean, and the ε the study
   * has spent with this round (at δ, read at `order`).
   */
  /**
   * Under secure aggregation: the sample indexes whose masked inputs are in the sum, the threshold and
   * ring it was unmasked in, the total weight it carried, and a SHA-256 of the unmasked ring sum (so
   * a plaintext replay can check it bit for bit). No per-site figure exists: the server saw none.
   */
  secureAggregation: z
    .object({ sampled: z.number(), survivors: z.array(z.number()), threshold: z.number(), bits: z.number(), fractionBits: z.number(), weight: z.number(), sumSha256: z.string() })
    .optional(),
  privacy: z
    .object({ denominator: z.number(), noiseStd: z.number(), epsilon: z.number(), delta: z.number(), order: z.number(), sampleRate: z.number(), noiseMultiplier: z.number() })
    .optional(),
});
export type AggregationReport = z.infer<typeof aggregationReportSchema>;
