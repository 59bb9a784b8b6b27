import { Link } from 'react-router';
import { useTitle } from '../layout/useTitle';

export function LandingPage() {
  useTitle('Federated learning for hospitals');
  return (
    <div className="landing">
      <section className="hero">
        <p className="eyebrow">Federated learning for hospitals</p>
        <h1>Train one model across many hospitals. Share no patient records.</h1>
        <p className="lede">
          Consilium coordinates clinical machine-learning studies in the browser. Each hospital trains the shared model on
          its own data, inside its own browser tab; only model updates leave the building. The coordinator combines them
          into a better model, round after round, and everyone watches it converge.
        </p>
        <div className="hero-actions">
          <Link className="button primary" to="/admin">
            Open the admin console
          </Link>
          <a className="button ghost" href="#join">
            How hospitals join
          </a>
          <Link className="button ghost" to="/chat">
            Questions about your heart or liver? Ask here
          </Link>
        </div>
      </section>

      <section className="steps" aria-label="How a round works">
        <article className="panel step">
          <span className="step-number" aria-hidden="true">1</span>
          <h2>Data stays local</h2>
          <p>Records are kept in the hospital browser's own storage and are never uploaded. What leaves is the model update, the number of records it was trained on, and validation metrics.</p>
        </article>
        <article className="panel step">
          <span className="step-number" aria-hidden="true">2</span>
          <h2>Train in the tab</h2>
          <p>
            When a round opens, a background worker trains the current global model on local records with WebGPU, WebGL,
            WebAssembly or the CPU, and keeps the page responsive.
          </p>
        </article>
        <article className="panel step">
          <span className="step-number" aria-hidden="true">3</span>
          <h2>Share the update</h2>
          <p>
            Only the change to the model weights is sent. The coordinator validates every update, aggregates them and
            publishes the next model version for all sites to evaluate.
          </p>
        </article>
      </section>

      <section id="join" className="panel join-help">
        <h2>Joining as a hospital</h2>
        <ol>
          <li>Your study coordinator sends your site a private link of the form <code>/hospital/&lt;token&gt;</code>.</li>
          <li>Open it in a current browser on a workstation that can stay on during the study.</li>
          <li>Check that the local dataset shows the expected number of records, then press <strong>Join study</strong>.</li>
          <li>Keep the tab open. It trains whenever a round runs and reports its progress to the coordinator.</li>
        </ol>
        <p className="muted">
          The link identifies your site. Treat it like a password, and do not share it outside your team.
        </p>
      </section>
    </div>
  );
}
