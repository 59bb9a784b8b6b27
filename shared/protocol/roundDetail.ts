import { z } from 'zod';
import { roundStatusSchema } from './schemas';

/**
 * `GET /api/studies/:id/rounds/:round` (platform admins): one round as it ran, from the rows it left
 * (rounds, updates, refused_updates, model_versions) and its aggregation report. Times are ISO
 * strings from the server's clock.
 */

/** The round's moments, in the order they normally happen; null where the round has not (or never) reached one. */
export const roundTimelineSchema = z.object({
  openedAt: z.string(),
  deadline: z.string(),
  /** The first accepted update (on time or late). */
  firstUpdateAt: z.string().nullable(),
  /** When the `needed`-th on-time update was accepted: from then on the round aggregates at its deadline, if not before. */
  quorumAt: z.string().nullable(),
  /** The last accepted update. */
  lastUpdateAt: z.string().nullable(),
  /** When the round's policy closed it to updates and aggregation began; null for rounds aggregated before this was recorded. */
  aggregationStartedAt: z.string().nullable(),
  /** When the round closed: its aggregate written in the same transaction as its version, or abandoned. */
  closedAt: z.string().nullable(),
  /** When the round's model version was written (null: none, yet or ever). */
  publishedAt: z.string().nullable(),
});
export type RoundTimeline = z.infer<typeof roundTimelineSchema>;

/** Downloads of one model version through the federation's model route, as counted by the server answering. */
export const versionTrafficSchema = z.object({
  version: z.number().int(),
  /** Complete downloads (a 304 for a cached version costs nothing and is not one). */
  downloads: z.number().int().min(0),
  /** Bytes sent, complete downloads or not. */
  bytes: z.number().int().min(0),
});
export type VersionTraffic = z.infer<typeof versionTrafficSchema>;

/** One accepted update: what intake measured, and (once aggregated) what the rule did with it. */
export const roundUpdateViewSchema = z.object({
  participantId: z.string(),
  siteId: z.string(),
  siteName: z.string(),
  /** Versions stale: 0 on time, above 0 for a straggler's update taken late into this round. */
  lateBy: z.number().int().min(0),
  receivedAt: z.string(),
  /** The payload's size as uploaded. */
  bytes: z.number().int().nullable(),
  /** As declared. */
  numSamples: z.number().int(),
  /** Weighted by fewer samples than declared (the round's sample cap). */
  capped: z.boolean(),
  /** L2 norm as received, before clipping. */
  norm: z.number().nullable(),
  /** The factor it was scaled by to the round's bound (1: within it). */
  scale: z.number(),
  clipped: z.boolean(),
  /** Share of the weighted average; null before aggregation, and for coordinate-wise rules (median, trimmed mean). */
  weight: z.number().nullable(),
  /** Entered the aggregate: false for updates Krum passed over; null before aggregation. */
  selected: z.boolean().nullable(),
  /** Krum score (lower is more central); null for other rules. */
  score: z.number().nullable(),
  /** L2 distance to the combined update, measured after the round closed; null until then. */
  distance: z.number().nullable(),
});
export type RoundUpdateView = z.infer<typeof roundUpdateViewSchema>;

/** An upload to this round that was refused, with its reason; it never reached the aggregate. */
export const roundRefusalViewSchema = z.object({
  participantId: z.string(),
  siteId: z.string(),
  siteName: z.string(),
  code: z.string(),
  reason: z.string(),
  /** Bytes read before it was refused. */
  bytes: z.number().int().min(0),
  at: z.string(),
  /** The norm the refusal measured (refusals for exceeding the study's hard bound); null otherwise. */
  norm: z.number().nullable(),
});
export type RoundRefusalView = z.infer<typeof roundRefusalViewSchema>;

export const roundDetailSchema = z.object({
  studyId: z.string(),
  round: z.number().int(),
  status: roundStatusSchema,
  /** Why it closed: all_reported, deadline_quorum, deadline_no_quorum, aggregation failed…; null while open. */
  closeReason: z.string().nullable(),
  baseVersion: z.number().int(),
  version: z.number().int().nullable(),
  /** The aggregation rule; null before aggregation. */
  strategy: z.string().nullable(),
  /** Rule-specific figures from the report (Krum's f and neighbours, trimmed per side…). */
  details: z.record(z.string(), z.number()),
  sampled: z.number().int(),
  /** On-time updates the round needs to aggregate at its deadline: min(minUpdates, sampled). */
  needed: z.number().int(),
  timeline: roundTimelineSchema,
  /** The bounds fixed when the round opened. */
  bounds: z.object({
    clipMode: z.enum(['adaptive', 'fixed', 'median', 'none']).nullable(),
    /** Updates longer than this were scaled down to it; null: no clipping. */
    clipNorm: z.number().nullable(),
    /** Updates longer than this were refused; null: no hard limit. */
    maxNorm: z.number().nullable(),
    sampleCap: z.number().nullable(),
  }),
  bytesIn: z.object({
    /** Payload bytes of the accepted updates. */
    accepted: z.number().int().min(0),
    acceptedUpdates: z.number().int().min(0),
    /** Bytes read of the refused uploads. */
    refused: z.number().int().min(0),
    refusedUploads: z.number().int().min(0),
    total: z.number().int().min(0),
  }),
  /**
   * Model downloads through `GET /api/studies/:id/models/:version`: the base version the sites
   * trained from, and the version this round wrote (fetched to evaluate it and to train the next
   * round). Counted in memory by the server process answering, since `countedSince`.
   */
  bytesOut: z.object({
    countedSince: z.string(),
    base: versionTrafficSchema,
    result: versionTrafficSchema.nullable(),
  }),
  /** In site order, a late update after its site's on-time one. */
  updates: z.array(roundUpdateViewSchema),
  /** Oldest first. */
  refused: z.array(roundRefusalViewSchema),
});
export type RoundDetail = z.infer<typeof roundDetailSchema>;
