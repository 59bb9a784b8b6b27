import type { ClinicalMetrics } from '../metrics/clinical';
import type { PrivacyPoint } from './privacy';

/**
 * `GET /api/studies/:id/metrics` (platform admins): every model version's pooled validation figures
 * and each site's own report of it, so the console can chart any metric per version, pooled and per
 * site, and say when the model predicts one class only.
 */
export interface MetricSeries {
  studyId: string;
  kind: 'binary' | 'multiclass';
  /** Class names by class index: `[negative, positive]` for a binary template. */
  classes: string[];
  /** In version order; version 0 is the initial model (round null), drawn as round 0. */
  versions: PooledVersionFigures[];
  /** One entry per site that reported any version, by site name. */
  sites: SiteSeries[];
  /** Under differential privacy: ε spent after each closed round, and the budget; null without privacy. */
  privacy: { delta: number; budget: number; points: PrivacyPoint[] } | null;
}

/** A version's figures over the reports that are pooled (flagged reports left out until an admin includes them). */
export interface PooledVersionFigures {
  version: number;
  round: number | null;
  numSamples: number;
  reports: number;
  flagged: number;
  loss: number | null;
  accuracy: number | null;
  clinical: ClinicalMetrics | null;
}

export interface SiteSeries {
  participantId: string;
  siteName: string;
  points: SitePoint[];
}

/** One site's report of one version, on its own validation split. */
export interface SitePoint {
  version: number;
  numSamples: number;
  loss: number;
  accuracy: number;
  clinical: ClinicalMetrics | null;
  /** Counted in the pooled figures: not flagged, or included by an admin. */
  pooled: boolean;
}
