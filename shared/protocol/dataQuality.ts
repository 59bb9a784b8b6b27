import { z } from 'zod';

/**
 * `GET /api/studies/:id/data-quality` (platform admins): what each site's aggregate statistics say
 * about its data, feature by feature: how many of its training records lack a value (imputed when it
 * trains), and how many present values lie outside the feature's plausible range (kept, but counted).
 * Built from the statistics the sites sent when they first joined (shared/fl/dataQuality.ts).
 */

/** One feature at one site. */
export const featureQualitySchema = z.object({
  /** Records without a value. */
  missing: z.number().int().min(0),
  /** `missing` over the site's records; 0 for a site with no records. */
  rate: z.number().min(0).max(1),
  /** Present values outside the plausible range (numeric features; 0 for the others, and for statistics sent before this was counted). */
  flagged: z.number().int().min(0),
});
export type FeatureQuality = z.infer<typeof featureQualitySchema>;

export const siteQualitySchema = z.object({
  participantId: z.string(),
  siteId: z.string(),
  siteName: z.string(),
  /** Records the statistics cover: the site's training split. */
  rows: z.number().int().min(0),
  /** By feature name. */
  features: z.record(z.string(), featureQualitySchema),
});
export type SiteQuality = z.infer<typeof siteQualitySchema>;

/** A feature missing from most of a site's records: imputed, its value mostly says which site the record came from. */
export const dataQualityWarningSchema = z.object({
  participantId: z.string(),
  siteName: z.string(),
  feature: z.string(),
  missing: z.number().int().min(0),
  rows: z.number().int().min(0),
  rate: z.number().min(0).max(1),
  /** The warning in plain words. */
  message: z.string(),
});
export type DataQualityWarning = z.infer<typeof dataQualityWarningSchema>;

export const dataQualitySchema = z.object({
  /** The template's features, in its order: the table's columns. */
  features: z.array(z.object({ name: z.string(), label: z.string() })),
  /** Sites that sent statistics: those with a warning first, then by name. */
  sites: z.array(siteQualitySchema),
  /** In the order of `sites`, then of `features`. */
  warnings: z.array(dataQualityWarningSchema),
});
export type DataQuality = z.infer<typeof dataQualitySchema>;
