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

/** One site's record-level (DP-SGD) spend: every step it was assigned, in every round, accounted at the study's δ. */
export const siteRecordPrivacySchema = z.object({
  participantId: z.string(),
  siteName: z.string(),
  /** Rounds the site was assigned DP-SGD steps in, and the steps in all. */
  rounds: z.number().int().min(0),
  steps: z.number().int().min(0),
  /** Record-level ε spent so far. */
  epsilon: z.number().min(0),
  /** True once the site cannot run one more step within its budget (maybe not even one, at its size): it trains no more for this study. */
  exhausted: z.boolean(),
});
export type SiteRecordPrivacy = z.infer<typeof siteRecordPrivacySchema>;

/** A record-level DP study's per-site accounts: admins see every site, a hospital its own. */
export const recordPrivacyStatusSchema = z.object({
  noiseMultiplier: z.number(),
  clipNorm: z.number(),
  delta: z.number(),
  /** Each site's budget. */
  budget: z.number(),
  sites: z.array(siteRecordPrivacySchema),
});
export type RecordPrivacyStatus = z.infer<typeof recordPrivacyStatusSchema>;
