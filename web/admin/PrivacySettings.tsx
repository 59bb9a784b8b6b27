import type { PrivacyStatus, StudyConfig } from '../../shared/protocol';
import { delta, epsilon, spentOfBudget } from '../privacyFormat';
import { LABELS } from './privacyForm';

/**
 * A study's differential privacy, read-only: it is fixed for the study's life (the accountant's
 * promise covers the mechanism as it was set when the first round opened). With what it has spent.
 */
export function PrivacySettings({ config, status }: { config: StudyConfig; status: PrivacyStatus | null }) {
  const p = config.privacy;
  if (!p) return null;
  const items: [string, string][] = [
    [LABELS.clipNorm, String(p.clipNorm)],
    [LABELS.noiseMultiplier, String(p.noiseMultiplier)],
    [LABELS.sampleRate, String(p.sampleRate)],
    [LABELS.delta, delta(p.delta)],
    [LABELS.epsilonBudget, epsilon(p.epsilonBudget)],
    [LABELS.recordCap, String(p.recordCap)],
  ];
  return (
    <section className="privacy-settings" aria-labelledby="privacy-settings-title" data-testid="privacy-settings">
      <h3 id="privacy-settings-title">
        Differential privacy (site-level) <span className="badge">Fixed for the study’s life</span>
      </h3>
      <dl className="config">
        {items.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
        {status && (
          <div>
            <dt>Spent so far</dt>
            <dd data-testid="privacy-settings-spent">
              {spentOfBudget(status)}, {status.rounds} {status.rounds === 1 ? 'round' : 'rounds'}
            </dd>
          </div>
        )}
      </dl>
      <p className="muted small">
        Set when the study was created and never changed: ε is accounted for the mechanism as set. Each round samples sites with probability q, clips
        their updates to C, and adds Gaussian noise to the mean.
      </p>
    </section>
  );
}
