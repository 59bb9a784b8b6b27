import { z } from 'zod';

/**
 * What a differentially private study has spent (shared/fl/privacy/sitePrivacy.ts): the admin
 * console, the hospital tab and each round's close carry it.
 */
export const privacyStatusSchema = z.object({
  /** ε spent by the rounds opened so far (every opened round counts), at δ. */
  epsilon: z.number().min(0),
  delta: z.number(),
  /** The study's budget. */
  budget: z.number(),
  /** Rounds accounted so far. */
  rounds: z.number().int().min(0),
  /** True once one more round would take ε past the budget: the study stopped itself (or will, as its round closes). */
  exhausted: z.boolean(),
});
export type PrivacyStatus = z.infer<typeof privacyStatusSchema>;

/** One point of the privacy chart: ε spent once round `round` was released. */
export const privacyPointSchema = z.object({ round: z.number().int().min(1), epsilon: z.number().min(0) });
export type PrivacyPoint = z.infer<typeof privacyPointSchema>;
