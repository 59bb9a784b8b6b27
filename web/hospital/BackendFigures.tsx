import { DASH } from '../format';
import { formatError } from '../training/backendChoice';
import type { BackendProbe } from '../training/protocol';

const VERDICT_TEXT = { chosen: 'chosen', slower: 'slower', refused: 'refused', unavailable: 'not usable' } as const;
const VERDICT_BADGE = { chosen: 'ok', slower: 'muted-badge', refused: 'warn', unavailable: 'muted-badge' } as const;

/** How this browser's training backend was chosen: each backend's speed and gradient error on the study's model. */
export function BackendFigures({ probe }: { probe: BackendProbe | null }) {
  if (!probe) return null;
  const when = new Date(probe.measuredAt).toLocaleString();
  return (
    <section className="panel" aria-labelledby="backend-figures-title" data-testid="backend-figures">
      <div className="panel-head">
        <h2 id="backend-figures-title">Training backend, measured</h2>
        <span className="muted small">
          {probe.cached ? `measured on ${when}, kept for this browser and model` : `measured now${probe.durationMs !== undefined ? ` in ${(probe.durationMs / 1000).toFixed(1)} s` : ''}`}
        </span>
      </div>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Backend</th>
              <th scope="col">ms / step</th>
              <th scope="col">samples / s</th>
              <th scope="col">gradient error vs CPU</th>
              <th scope="col">verdict</th>
              <th scope="col">why</th>
            </tr>
          </thead>
          <tbody>
            {probe.figures.map((f) => (
              <tr key={f.backend} data-testid="backend-figure" data-backend={f.backend} data-verdict={f.verdict}>
                <th scope="row">
                  {f.backend}
                  {f.adapter && <span className="muted small block">{f.adapter}</span>}
                </th>
                <td>{f.available ? f.msPerStep.toFixed(1) : DASH}</td>
                <td>{f.available ? Math.round(f.samplesPerSecond).toLocaleString() : DASH}</td>
                <td data-testid="gradient-error">{f.available && f.gradientError !== null ? formatError(f.gradientError) : DASH}</td>
                <td>
                  <span className={`badge ${VERDICT_BADGE[f.verdict]}`}>{VERDICT_TEXT[f.verdict]}</span>
                </td>
                <td className="small" data-testid="verdict-reason">
                  {f.available ? (f.note ?? '') : f.reason}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
