import { formatError } from '../training/backendChoice';
import type { BackendProbe } from '../training/protocol';
import { backendRows, backendSummary } from './backendWording';
import { ScrollFrame } from '../layout/ScrollFrame';

const RESULT_BADGE = { chosen: 'ok', slower: 'muted-badge', refused: 'warn', unavailable: 'muted-badge' } as const;

/**
 * How this browser's training backend was chosen, in plain words: each way of running the model's
 * maths, how fast it trained this study's model, whether its results matched the reference, and which
 * one the tab uses. Always the same four rows and five columns.
 */
export function BackendFigures({ probe }: { probe: BackendProbe | null }) {
  if (!probe) return null;
  const when = new Date(probe.measuredAt).toLocaleString();
  const rows = backendRows(probe.figures);
  return (
    <section className="panel" aria-labelledby="backend-figures-title" data-testid="backend-figures">
      <div className="panel-head">
        <h2 id="backend-figures-title">How this browser trains</h2>
        <span className="muted small">
          {probe.cached ? `measured on ${when}, kept for this browser and model` : `measured now${probe.durationMs !== undefined ? ` in ${(probe.durationMs / 1000).toFixed(1)} s` : ''}`}
        </span>
      </div>
      <p className="small" data-testid="backend-summary">
        {backendSummary(probe.figures)}
      </p>
      <ScrollFrame label="Training methods measured">
        <table className="backend-table">
          <thead>
            <tr>
              <th scope="col">Method</th>
              <th scope="col">Speed</th>
              <th scope="col">Results match the reference</th>
              <th scope="col">Outcome</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const f = probe.figures.find((x) => x.backend === r.backend);
              const raw = f?.available ? `${f.msPerStep.toFixed(1)} ms per step; gradient error ${f.gradientError === null ? 'unchecked' : formatError(f.gradientError)}` : undefined;
              return (
                <tr key={r.backend} data-testid="backend-figure" data-backend={r.backend} data-verdict={r.verdict} title={raw}>
                  <th scope="row">
                    {r.method}
                    <span className="muted small block">{f?.adapter ?? r.hardware}</span>
                  </th>
                  <td>{r.speed}</td>
                  <td data-testid="gradient-error">{r.agreement}</td>
                  <td>
                    <span className={`badge ${RESULT_BADGE[r.verdict]}`}>{r.result}</span>
                  </td>
                  <td className="small" data-testid="verdict-reason">
                    {r.why}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollFrame>
    </section>
  );
}
