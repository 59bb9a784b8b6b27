import type { Dashboard } from '../../shared/protocol';
import { percent } from '../format';
import { oneClassWarning, RISING_LOSS_ROUNDS, risingLossWarning } from './convergence';
import { useMetricSeries } from './useMetricSeries';

const records = (n: number) => `${n.toLocaleString('en')} pooled validation record${n === 1 ? '' : 's'}`;

/**
 * What an admin must know about the model before anything else on the dashboard: the latest version
 * puts every case in one class (a high accuracy can hide it), or the validation loss keeps rising.
 * Nothing renders while the model looks sound.
 */
export function ModelWarnings({ dashboard }: { dashboard: Dashboard }) {
  const series = useMetricSeries(dashboard);
  if (!series.data) return null;
  const oneClass = oneClassWarning(series.data);
  const rising = risingLossWarning(series.data.versions);
  if (!oneClass && !rising) return null;
  const binary = series.data.kind === 'binary';
  return (
    <section className="model-warning" role="alert" aria-label="Model warnings" data-testid="model-warning">
      {oneClass && (
        <div data-testid="one-class-warning">
          <strong>
            Model v{oneClass.version} calls every case “{oneClass.className}”
            {oneClass.since < oneClass.version ? `, as every version since v${oneClass.since} has` : ''}.
          </strong>{' '}
          {binary
            ? oneClass.classIndex === 0
              ? `Sensitivity is 0%: it finds no “${series.data.classes[1]}” in ${records(oneClass.numSamples)}. `
              : `Specificity is 0%: it clears no “${series.data.classes[0]}” in ${records(oneClass.numSamples)}. `
            : `It predicted no other class for ${records(oneClass.numSamples)}. `}
          Its accuracy of {percent(oneClass.accuracy)} is what always answering “{oneClass.className}” scores
          {oneClass.majorityAccuracy !== null && oneClass.majorityAccuracy !== oneClass.accuracy ? ` (${percent(oneClass.majorityAccuracy)})` : ''}. Check
          {binary ? ' sensitivity and AUROC' : ' balanced accuracy'} in the chart before approving a version.
        </div>
      )}
      {rising && (
        <div data-testid="rising-loss-warning" title={`Shown once the pooled validation loss has risen ${RISING_LOSS_ROUNDS} evaluated versions in a row`}>
          <strong>Validation loss has risen {rising.rises} rounds in a row:</strong> {rising.from.loss.toFixed(3)} at v{rising.from.version} → {rising.to.loss.toFixed(3)} at v{rising.to.version}. The
          lowest was v{rising.lowest.version} ({rising.lowest.loss.toFixed(3)}). The model may be overfitting the sites’ data or diverging: consider pausing
          the study, or approving v{rising.lowest.version}.
        </div>
      )}
    </section>
  );
}
