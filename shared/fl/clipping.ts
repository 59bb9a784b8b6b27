import { z } from 'zod';
import { median } from './normBound';

/**
 * How a study bounds each update's L2 norm before it is summed. The bound is fixed when a round
 * opens, so updates can be folded the moment they arrive and a replayed round folds them the same way.
 *
 * - `adaptive` (the default): the bound follows a target quantile of the honest update norms, moved
 *   geometrically once per round as Andrew et al. (2021, "Differentially private learning with
 *   adaptive clipping") define it: C ← C · exp(−η · (b̄ − γ)), b̄ the share of the last round's
 *   updates that were within C, γ the target quantile, η the learning rate. One round moves C by a
 *   factor of at most exp(η·max(γ, 1−γ)), however large the updates a site sends: a minority cannot
 *   drag the bound up, it can only count as "above" like any update above the median.
 * - `fixed`: one bound for every round (what differential privacy needs: its noise is scaled to it).
 * - `median`: factor × the median norm of the previous round's updates; the first round is unclipped
 *   (the rule before adaptive clipping; `normBoundFactor` still sets it).
 * - `none`: no clipping. Updates are bounded only by `maxUpdateNorm` and the value range; one site
 *   can then move the model as far as it likes, and the admin console says so.
 */
export const clippingSchema = z.discriminatedUnion('mode', [
  z.strictObject({
    mode: z.literal('adaptive'),
    /** γ: the share of updates meant to fall within the bound. */
    targetQuantile: z.number().gt(0, 'targetQuantile must be above 0').lt(1, 'targetQuantile must be below 1').default(0.5),
    /** η: how fast the bound moves (log scale, per round). */
    learningRate: z.number().gt(0, 'learningRate must be above 0').max(2, 'learningRate is at most 2').default(1),
    /** The first round's bound; null: the template's (or, for a template without one, an estimate from its model). */
    initialNorm: z.number().positive('initialNorm must be above 0').max(1e6).nullable().default(null),
  }),
  z.strictObject({ mode: z.literal('fixed'), norm: z.number().positive('norm must be above 0').max(1e6) }),
  z.strictObject({ mode: z.literal('median'), factor: z.number().positive('factor must be above 0').max(1_000) }),
  z.strictObject({ mode: z.literal('none') }),
]);
export type Clipping = z.infer<typeof clippingSchema>;
export type ClippingInput = z.input<typeof clippingSchema>;

export const defaultClipping: Clipping = clippingSchema.parse({ mode: 'adaptive' });

/**
 * A first bound for a model no one has measured: 10 × learning rate × √parameters. An adaptive
 * optimiser moves each weight by about the learning rate per step; over the tens of steps of a local
 * round the moves partly cancel, and the first-round norms the templates measured sit within a factor
 * of two of this. The adaptive rule corrects a poor start by ×1.1 a round.
 */
export function estimatedInitialNorm(parameters: number, learningRate: number): number {
  return 10 * learningRate * Math.sqrt(parameters);
}

/** What the bound of one round is made from. */
export interface ClipHistory {
  /** The previous round's bound, if it had one (null: unclipped, or no previous round). */
  previousBound: number | null;
  /** The L2 norms of the previous round's updates, as received. */
  previousNorms: readonly number[];
}

/**
 * The clipping bound of the round about to open; null for no clipping. `initialNorm` is the
 * adaptive rule's start when the study gives none.
 */
export function nextClipNorm(clipping: Clipping, history: ClipHistory, initialNorm: number): number | null {
  const norms = history.previousNorms.filter((n) => Number.isFinite(n) && n >= 0);
  switch (clipping.mode) {
    case 'none':
      return null;
    case 'fixed':
      return clipping.norm;
    case 'median': {
      const positive = norms.filter((n) => n > 0);
      return positive.length > 0 ? clipping.factor * median(positive) : null;
    }
    case 'adaptive': {
      const start = clipping.initialNorm ?? initialNorm;
      const previous = history.previousBound;
      // A first round, or one after a round that was not adaptive-clipped: start again.
      if (previous === null || !(previous > 0)) return start;
      if (norms.length === 0) return previous;
      const within = norms.filter((n) => n <= previous).length / norms.length;
      return previous * Math.exp(-clipping.learningRate * (within - clipping.targetQuantile));
    }
  }
}
