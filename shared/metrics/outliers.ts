/**
 * Which sites' evaluation of one model version sit too far from the others' to be pooled unseen.
 *
 * Sites differ honestly (other patients, other label balance), so the yardstick is the spread the
 * sites themselves show. Each figure is compared on the scale its noise is even on: accuracy as a
 * log-odds (with half a record of continuity either side, so a perfect score stays finite and a small
 * split counts for less), the loss as a logarithm (cross-entropies differ by factors, not by amounts).
 * For each, the sites' median and their median absolute deviation from it, scaled to a standard
 * deviation (× 1.4826); a site's own sampling noise is added in quadrature; a floor keeps sites that
 * agree closely from flagging one another. A site is flagged when it sits more than `z` such
 * deviations from the median. Medians, not means: a forger cannot move the yardstick it is measured
 * by while most sites are honest. Fewer than `minSites` reports flag nothing.
 *
 * Measured on the simulated cohorts (heart-risk and hcv-stage, 5 to 10 sites, seeds 1 to 4, every
 * version from the untrained one on): the defaults flagged every forged perfect report and no honest
 * one; z = 4 flagged 1 to 3 % of honest reports, all of them from a site whose patients are easy.
 */
export interface SiteFigures {
  id: string;
  numSamples: number;
  loss: number;
  accuracy: number;
}

export interface OutlierOptions {
  /** Deviations (robust standard deviations) beyond which a site is flagged. */
  z: number;
  /** Fewest reports the comparison needs. */
  minSites: number;
  /** Smallest tolerated distance from the median: in log-odds of accuracy, and in log of the loss (1.5: a factor of 4.5). */
  floor: { accuracy: number; loss: number };
}

export const defaultOutlierOptions: OutlierOptions = { z: 5, minSites: 3, floor: { accuracy: 0.5, loss: 1.5 } };

const MAD_TO_SD = 1.4826;
/** The smallest loss compared: a perfect forecast's loss is 0, and its logarithm must stay finite. */
const LOSS_FLOOR = 1e-6;

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const logOdds = (r: SiteFigures) => {
  const p = (r.accuracy * r.numSamples + 0.5) / (r.numSamples + 1);
  return Math.log(p / (1 - p));
};

/** The flagged sites, each with the reason an admin reads beside the pooled figure. */
export function outlyingSites(reports: readonly SiteFigures[], options: Partial<OutlierOptions> = {}): Map<string, string> {
  const o = { ...defaultOutlierOptions, ...options, floor: { ...defaultOutlierOptions.floor, ...options.floor } };
  const flagged = new Map<string, string>();
  if (reports.length < o.minSites) return flagged;
  const accuracyCenter = median(reports.map((r) => r.accuracy));
  const lossCenter = median(reports.map((r) => r.loss));
  const figures = [
    {
      name: 'accuracy',
      value: logOdds,
      // Binomial, on the log-odds scale, at the sites' median accuracy.
      noise: (n: number) => {
        const p = Math.min(Math.max(accuracyCenter, 0.5 / (n + 1)), 1 - 0.5 / (n + 1));
        return 1 / Math.sqrt(Math.max(1, n) * p * (1 - p));
      },
      floor: o.floor.accuracy,
      said: (r: SiteFigures) => `accuracy ${(100 * r.accuracy).toFixed(1)} % against the sites' median of ${(100 * accuracyCenter).toFixed(1)} %`,
    },
    {
      name: 'loss',
      value: (r: SiteFigures) => Math.log(Math.max(r.loss, LOSS_FLOOR)),
      // A mean of per-record cross-entropies, whose spread is about their mean: a relative error of 1/√n.
      noise: (n: number) => 1 / Math.sqrt(Math.max(1, n)),
      floor: o.floor.loss,
      said: (r: SiteFigures) => `loss ${r.loss.toFixed(3)} against the sites' median of ${lossCenter.toFixed(3)}`,
    },
  ];
  for (const f of figures) {
    const values = reports.map(f.value);
    const center = median(values);
    const spread = MAD_TO_SD * median(values.map((v) => Math.abs(v - center)));
    reports.forEach((r, i) => {
      if (flagged.has(r.id)) return;
      const deviation = Math.hypot(spread, f.noise(r.numSamples));
      const off = Math.abs(values[i] - center);
      if (off <= Math.max(o.z * deviation, f.floor)) return;
      flagged.set(r.id, `${f.said(r)}: ${(off / deviation).toFixed(1)} deviations from the other sites' figures`);
    });
  }
  return flagged;
}
