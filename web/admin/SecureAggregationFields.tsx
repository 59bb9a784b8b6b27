import { useId } from 'react';
import { UNAVAILABLE_UNDER_SECURE_AGGREGATION as WHY } from '../../shared/protocol/studyConfig';

interface Props {
  enabled: boolean;
  onChange: (enabled: boolean) => void;
}

/**
 * The New study form's secure aggregation setting: the server learns each round's sum of updates,
 * never one hospital's. Turning it on says, before the study exists, what it rules out and why.
 */
export function SecureAggregationFields({ enabled, onChange }: Props) {
  const id = useId();
  return (
    <fieldset className="config-group" data-testid="secure-aggregation-fields">
      <legend>Secure aggregation</legend>
      <label className="check">
        <input type="checkbox" name="secureAggregation" checked={enabled} onChange={(e) => onChange(e.target.checked)} aria-describedby={id} /> Hide each site’s
        update from the server (secure aggregation)
      </label>
      <p id={id} className="muted small">
        Each hospital tab masks its update with keys the other sites hold shares of; the masks cancel only in the sum of at least half of the round’s
        sites, so the server learns the sum and nothing of one site’s update. Fixed for the study’s life.
      </p>
      {enabled && (
        <ul className="small" data-testid="secure-aggregation-rules-out">
          <li>Robust strategies: {WHY.strategy}.</li>
          <li>Late updates: {WHY.straggler}.</li>
          <li>Clipping: {WHY.clipping}.</li>
          <li>A server-side norm limit: {WHY.maxUpdateNorm}.</li>
        </ul>
      )}
    </fieldset>
  );
}
