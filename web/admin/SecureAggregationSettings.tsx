import type { StudyConfig } from '../../shared/protocol';

/**
 * A study under secure aggregation, said plainly: the server learns each round's sum and nothing of
 * one site's update, and so cannot check, clip, measure or pick updates. No fake proof is offered.
 */
export function SecureAggregationSettings({ config }: { config: StudyConfig }) {
  const sa = config.secureAggregation;
  if (!sa) return null;
  const clip = config.clipping.mode === 'fixed' ? config.clipping.norm : null;
  return (
    <section className="privacy-settings" aria-labelledby="secure-aggregation-title" data-testid="secure-aggregation-settings">
      <h3 id="secure-aggregation-title">
        Secure aggregation <span className="badge">Fixed for the study’s life</span>
      </h3>
      <p className="small">
        The server learns each round’s sum of updates, never one hospital’s update: every site masks its update with keys the other sites hold
        shares of, and the masks cancel only in the sum of at least half of the round’s sites.
      </p>
      <ul className="small">
        <li>
          Each site clips its own update to L2 norm {clip ?? '—'} before masking it. <strong>The server cannot check that it did</strong>, nor measure any
          update’s norm: the rounds table shows no per-site norm.
        </li>
        <li>Robust rules (median, trimmed mean, Krum), late updates and a server-side norm limit are unavailable: they need single updates.</li>
        <li>Fixed-point precision: {sa.fractionBits === null ? 'as many fraction bits as each round’s ring leaves' : `${sa.fractionBits} fraction bits`}.</li>
        <li>
          A site finishes a round when its masked update is in: its update counts even if its tab closes before the unmasking. A round whose sites
          fall below {`⌊n/2⌋ + 1`} at any step ends without a version, revealing nothing.
        </li>
      </ul>
    </section>
  );
}
