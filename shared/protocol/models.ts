import { z } from 'zod';
import type { AurocMethod, ClinicalMetrics } from '../metrics/clinical';
import type { EvaluationCurves } from '../metrics/curves';

export type { AurocMethod } from '../metrics/clinical';
export type { EvaluationCurves, ReliabilityBin, RocCurve, RocPoint } from '../metrics/curves';

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
  /** The sites' clinical metrics pooled (confusion and calibration summed, AUROC as `aurocMethod` says); null before any report. */
  clinical: ClinicalMetrics | null;
  /**
   * The pooled AUROC: binary, label 1 against label 0 (= `clinical.auroc`); multi-class, the mean of the
   * one-vs-rest AUROCs over the classes present (histograms only). Null when undefined: no report, no
   * site with both classes, or a multi-class version whose sites did not all send histograms.
   */
  auroc: number | null;
  /**
   * `'histogram'`: from every pooled site's summed score histograms, the AUROC of the pooled validation
   * data within `aurocMaxError`. `'weighted-mean'`: some pooled site sent no histogram, so the
   * sample-weighted mean of the AUROCs of the sites with both classes (biased low on real data). Null
   * with `auroc`.
   */
  aurocMethod: AurocMethod | null;
  /** With `'histogram'`: the most `auroc` can differ from the AUROC of the pooled raw scores (≤ the bin width for any smooth score distribution). */
  aurocMaxError: number | null;
}

/** A version's evaluation: every site's report on its own validation split, and the pooled values (flagged reports left out). */
export interface VersionEvaluation {
  version: number;
  /** The pooled reports' clinical metrics (their histograms summed into `curves`, not repeated here). */
  global: ClinicalMetrics | null;
  /** As in ModelVersionView: the pooled AUROC, how it was pooled, and its error bound. */
  auroc: number | null;
  aurocMethod: AurocMethod | null;
  aurocMaxError: number | null;
  /** Pooled reports (with samples) that sent no score histogram; any one of them makes the method `'weighted-mean'` and `curves.roc` empty. */
  withoutHistogram: number;
  /**
   * Pooled ROC curves (`roc`: binary one, multi-class one per class, one-vs-rest), top-label
   * `reliability` and, binary only, `riskReliability`; null with `global`. The confusion matrix is
   * `global.confusion`.
   */
  curves: EvaluationCurves | null;
  sites: {
    participantId: string;
    siteName: string;
    numSamples: number;
    backend: string;
    reportedAt: string;
    loss: number;
    accuracy: number;
    /** The site's own metrics (its confusion matrix in `clinical.confusion`), without its histogram. */
    clinical: ClinicalMetrics | null;
    /** Whether the site sent score histograms. */
    histogram: boolean;
    /** The site's own ROC curves and reliability diagrams (roc empty without histograms); null without clinical metrics. */
    curves: EvaluationCurves | null;
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
