import { getTemplate, modelInputShape } from '../../shared/tasks';
import type { ModelSpec, TaskTemplate } from '../../shared/tasks/spec';
import { countText, modelGraph, shapeText } from './modelGraph';

/**
 * The study's model as the hospitals' browsers build it: the template's spec (the same one the
 * training worker reads from shared/tasks), drawn input first, layer by layer.
 */
export function ModelGraphPanel({ templateId }: { templateId: string }) {
  const template = getTemplate(templateId);
  return (
    <section className="panel model-panel" aria-labelledby="model-title" data-testid="model-panel">
      <div className="panel-head">
        <h2 id="model-title">Model</h2>
        <span className="muted small">
          {template ? `${template.name}: what every hospital’s browser trains` : `template ${templateId}`}
        </span>
      </div>
      {template ? (
        <ModelGraph spec={template.model} inputNote={inputNote(template)} />
      ) : (
        <p className="muted">This console does not know the template “{templateId}”, so it cannot draw its model.</p>
      )}
    </section>
  );
}

/** What one input sample is, in the template's terms: an image, or features and their encoding. */
function inputNote(t: TaskTemplate): string {
  if (t.image) return `${t.image.width}×${t.image.height} ${t.image.channels === 1 ? 'grayscale' : 'colour'} image, pixels scaled to [0, 1]`;
  const indicators = t.features.filter((f) => f.missingIndicator).length;
  const what = indicators === t.features.length ? `${t.features.length} features and whether each was missing` : indicators > 0 ? `${t.features.length} features, ${indicators} with a missing indicator` : `${t.features.length} features`;
  return `${what}, encoded to ${modelInputShape(t.model).join('×')} values`;
}

export function ModelGraph({ spec, inputNote }: { spec: ModelSpec; inputNote?: string }) {
  let graph: ReturnType<typeof modelGraph>;
  try {
    graph = modelGraph(spec);
  } catch (e) {
    return (
      <p role="alert" className="error-text">
        The model’s layers do not fit together: {(e as Error).message}
      </p>
    );
  }
  return (
    <div className="model-graph-body">
      <ol className="model-graph" aria-label="Layers of the model, input first" data-testid="model-graph">
        {graph.nodes.map((n, i) => (
          <li key={i} className={`model-node kind-${n.kind}`} data-testid="model-node" data-kind={n.kind}>
            <div className="model-node-main">
              <span className="model-node-title">{n.title}</span>
              {n.activation && <span className="chip">{n.activation}</span>}
              {n.kind === 'input' && inputNote && <span className="model-node-details">{inputNote}</span>}
              {n.details.length > 0 && <span className="model-node-details">{n.details.join(' · ')}</span>}
            </div>
            <dl className="model-node-figures">
              <div>
                <dt>{n.kind === 'input' ? 'shape' : 'output'}</dt>
                <dd data-testid="model-node-shape">{shapeText(n.shape)}</dd>
              </div>
              <div>
                <dt>params</dt>
                <dd data-testid="model-node-parameters">{countText(n.parameters)}</dd>
              </div>
            </dl>
          </li>
        ))}
      </ol>
      <dl className="model-summary">
        <div>
          <dt>Total parameters</dt>
          <dd data-testid="model-total-parameters">{countText(graph.totalParameters)}</dd>
        </div>
        <div>
          <dt>Weights (float32)</dt>
          <dd>{bytesText(graph.weightBytes)}</dd>
        </div>
        <div>
          <dt>Loss</dt>
          <dd>{graph.loss}</dd>
        </div>
      </dl>
    </div>
  );
}

function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
