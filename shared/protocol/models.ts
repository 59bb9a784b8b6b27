import { z } from 'zod';
import type { ClinicalMetrics } from '../metrics/clinical';

/** One stored model version, as the admin console lists it. */
export interface ModelVersionView {
  version: number;
  parentVersion: number | null;
  round: number | null;
  sha256: string;
  createdAt: string;
  approved: boolean;
  /** Sample-weighted global validation metrics, once sites have reported. */
  numSamples: number;
  reports: number;
  /** Reports left out of the figures: far from the other sites' and not included by an admin. */
  flagged: number;
  loss: number | null;
  accuracy: number | null;
  /** The sites' clinical metrics pooled (confusion and calibration summed); null before any report. */
  clinical: ClinicalMetrics | null;
}

/** A version's evaluation: every site's report on its own validation split, and the pooled values (flagged reports left out). */
export interface VersionEvaluation {
  version: number;
  global: ClinicalMetrics | null;
  sites: {
    participantId: string;
    siteName: string;
    numSamples: number;
    backend: string;
    reportedAt: string;
    loss: number;
    accuracy: number;
    clinical: ClinicalMetrics | null;
    /** Why the report sits far from the other sites' (null: it does not). */
    flag: string | null;
    /** The admin who included the flagged report in the pooled figures. */
    includedBy: string | null;
    /** Counted in `global`: not flagged, or included by an admin. */
    pooled: boolean;
  }[];
}

/** One approval: the latest is the study's approved version; approving an earlier one rolls back. */
export interface ApprovalView {
  version: number;
  previousVersion: number | null;
  approvedBy: string;
  note: string;
  approvedAt: string;
}

export const approvalSchema = z.object({
  note: z.string().trim().min(1, 'say why this version is approved').max(2000),
});
export type ApprovalRequest = z.infer<typeof approvalSchema>;
