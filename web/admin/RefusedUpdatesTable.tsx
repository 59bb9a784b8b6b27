import type { RefusedUpdateView } from '../../shared/protocol';
import { ScrollFrame } from '../layout/ScrollFrame';

/** Updates the server refused before aggregation, with the reason: never part of any model. */
export function RefusedUpdatesTable({ refused }: { refused: RefusedUpdateView[] }) {
  return (
    <section className="panel" aria-labelledby="refused-title">
      <div className="panel-head">
        <h2 id="refused-title">Refused updates</h2>
        <span className="muted small">Checked before aggregation; a refused update is never aggregated</span>
      </div>
      {refused.length === 0 ? (
        <p className="muted" data-testid="refused-none">
          None: every update received so far passed the checks.
        </p>
      ) : (
        <ScrollFrame label="Refused updates table">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col" className="num">
                  Round
                </th>
                <th scope="col">Hospital</th>
                <th scope="col">Check</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {refused.map((r, i) => (
                <tr key={`${r.at}-${i}`} data-testid="refused-row">
                  <td>{new Date(r.at).toLocaleTimeString()}</td>
                  <td className="num">{r.round}</td>
                  <td>{r.siteName}</td>
                  <td>
                    <span className="badge warn">{r.code.replaceAll('_', ' ')}</span>
                  </td>
                  <td className="small">{r.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollFrame>
      )}
    </section>
  );
}
