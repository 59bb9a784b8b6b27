import { Link } from 'react-router';
import { DISCLAIMER, nextStepFor } from '../../../shared/chat';
import { formatDate } from '../ReplyView';
import type { Factor } from './factors';
import type { Question } from './questions';
import type { RiskResult, RiskStep } from './steps';

const RISK_ARTICLE = { href: '/chat/articles/risk-estimates', title: 'What a risk estimate means, and what it does not' };
const PRIVACY_ARTICLE = { href: '/chat/articles/consilium-risk-check', title: 'How Consilium’s risk check works, and your privacy' };

/** `23%`; the extremes as "under 1%" and "over 99%", never a false 0 or 100. */
export function percent(p: number): string {
  if (p < 0.01) return 'under 1%';
  if (p > 0.99) return 'over 99%';
  return `${Math.round(p * 100)}%`;
}

function inHundred(p: number): string {
  const n = Math.round(p * 100);
  return n < 1 ? 'fewer than 1' : n > 99 ? 'more than 99' : String(n);
}

export function RiskStepView({ step }: { step: RiskStep }) {
  switch (step.kind) {
    case 'intro':
      return (
        <div className="chat-reply risk" data-testid="chat-reply" data-kind="risk-intro">
          <p>{step.text}</p>
          <p className="small">
            <Link to={PRIVACY_ARTICLE.href}>{PRIVACY_ARTICLE.title}</Link>
          </p>
        </div>
      );
    case 'question':
      return (
        <div className="chat-reply risk risk-question" data-testid="chat-reply" data-kind="risk-question" data-feature={step.feature}>
          <p className="risk-progress small muted">
            Question {step.number} of {step.total}
          </p>
          <p className="risk-prompt">{step.prompt}</p>
          {step.help && <p className="small muted risk-help">{step.help}</p>}
        </div>
      );
    case 'refusal':
      return (
        <div className="chat-reply risk risk-refusal" data-testid="chat-reply" data-kind="risk-refusal">
          <p>{step.text}</p>
        </div>
      );
    case 'note':
      return (
        <div className="chat-reply risk notice" data-testid="chat-reply" data-kind="risk-note">
          <p>{step.text}</p>
        </div>
      );
    case 'unavailable':
    case 'stopped':
      return (
        <div className="chat-reply risk notice" data-testid="chat-reply" data-kind={`risk-${step.kind}`}>
          <p>{step.text}</p>
        </div>
      );
    case 'result':
      return <RiskResultView result={step.result} />;
  }
}

/** The answers to press for the question being asked, under the conversation. */
export function RiskChoices({ question, onReply, onStop }: { question: Question; onReply: (text: string) => void; onStop: () => void }) {
  return (
    <div className="risk-choices" data-testid="risk-choices" aria-label={`Answers to: ${question.prompt}`} role="group">
      {question.kind === 'choice' ? (
        <ul>
          {question.choices.map((c) => (
            <li key={c.value}>
              <button type="button" className="chat-chip risk-choice" data-testid="risk-choice" onClick={() => onReply(c.label)}>
                {c.label}
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="small muted risk-type-hint">Type your answer in the box below ({question.help.split('.')[0].toLowerCase()}).</p>
      )}
      <div className="risk-choice-actions">
        {question.unknownAllowed && (
          <button type="button" className="chat-chip" data-testid="risk-unknown" onClick={() => onReply('I don’t know')}>
            I don’t know
          </button>
        )}
        <button type="button" className="button small-button" data-testid="risk-stop" onClick={onStop}>
          Stop the risk check
        </button>
      </div>
    </div>
  );
}

function FactorList({ factors, direction }: { factors: Factor[]; direction: 'up' | 'down' }) {
  if (!factors.length) return null;
  return (
    <>
      <p className="risk-factor-head">{direction === 'up' ? 'Raised your estimate' : 'Lowered your estimate'}</p>
      <ul className={`risk-factors ${direction}`}>
        {factors.map((f) => (
          <li key={f.feature} data-testid="risk-factor" data-direction={direction} data-feature={f.feature}>
            <span className="risk-arrow" aria-hidden="true">
              {direction === 'up' ? '▲' : '▼'}
            </span>
            <span>{f.text}</span>
          </li>
        ))}
      </ul>
    </>
  );
}

/** What to do with this estimate, by its band (shared/chat/riskBands.ts): calm, never a diagnosis. */
function NextStepView({ probability }: { probability: number }) {
  const next = nextStepFor(probability);
  return (
    <div className={`risk-next-step ${next.band}`} data-testid="risk-next-step" data-band={next.band}>
      <h2 className="risk-head">{next.title}</h2>
      <ul className="risk-meaning">
        {next.lines.map((line) => (
          <li key={line}>{line}</li>
        ))}
      </ul>
    </div>
  );
}

function Validation({ model }: { model: RiskResult['model'] }) {
  const v = model.validation;
  if (!v) {
    return (
      <p data-testid="risk-validation" className="risk-caution">
        No hospital has reported test results for this version yet, so its accuracy is not known. Treat this estimate with extra caution.
      </p>
    );
  }
  const pct = (x: number | null) => (x === null ? 'not measured' : `${Math.round(x * 100)}%`);
  return (
    <>
      <p data-testid="risk-validation">
        Tested on {v.numSamples} patients the hospitals held back from training ({v.sites} {v.sites === 1 ? 'hospital' : 'hospitals'}): accuracy{' '}
        {pct(v.accuracy)}, AUROC {v.auroc.toFixed(2)}, sensitivity {pct(v.sensitivity)}, specificity {pct(v.specificity)}.
      </p>
      <p className="small muted">
        Accuracy: how often it was right. AUROC: how well it ranks people with heart disease above people without (1 is perfect, 0.5 is
        chance). Sensitivity: of the people who had heart disease, how many it flagged; specificity: of those who did not, how many it
        cleared (both with 50% as the cut-off).
      </p>
    </>
  );
}

export function RiskResultView({ result }: { result: RiskResult }) {
  const { probability, baselineProbability, factors, model } = result;
  const none = !factors.up.length && !factors.down.length;
  return (
    <div className="chat-reply risk risk-result" data-testid="risk-result" data-kind="risk-result">
      <p className="risk-eyebrow">Your estimate</p>
      <p className="risk-probability" data-testid="risk-probability">
        {percent(probability)}
      </p>
      <p>
        According to the model, about <strong>{inHundred(probability)} in every 100</strong> people with answers like yours have heart disease. For a
        typical patient in the study it is {percent(baselineProbability)}.
      </p>
      <div className="risk-bar" aria-hidden="true">
        <span className="risk-bar-fill" style={{ width: `${Math.max(1, Math.min(100, probability * 100))}%` }} />
        <span className="risk-bar-typical" style={{ left: `${Math.min(100, baselineProbability * 100)}%` }} title="typical patient" />
      </div>

      <NextStepView probability={probability} />

      <h2 className="risk-head">What it means, and what it does not</h2>
      <ul className="risk-meaning">
        <li>It is not a diagnosis. It cannot tell whether you have heart disease: only a clinician who examines you can.</li>
        <li>A low estimate does not rule heart disease out, and a high one does not mean you have it.</li>
        <li>
          If you have symptoms such as chest pain or breathlessness, act on them whatever the estimate says: see a doctor, or call an emergency number if they
          are severe.
        </li>
      </ul>
      <p className="small">
        Read more: <Link to={RISK_ARTICLE.href}>{RISK_ARTICLE.title}</Link>
      </p>

      <h2 className="risk-head">What moved your estimate</h2>
      <p className="small muted">
        Compared with a typical patient in the study (the average of each number, the most common of each other answer), these answers moved it the
        most, as the model worked it out. A model learns from its data, so where it differs from what doctors usually expect, it says so.
      </p>
      <FactorList factors={factors.up} direction="up" />
      <FactorList factors={factors.down} direction="down" />
      {none && <p>None of your answers moved it much away from the typical patient’s.</p>}
      {factors.unknown.length > 0 && (
        <p className="small muted" data-testid="risk-unknown-note">
          You answered “I don’t know” for: {listText(factors.unknown)}. The study’s typical value was used instead, so{' '}
          {factors.unknown.length === 1 ? 'that answer' : 'those answers'} did not move the estimate.
        </p>
      )}

      <h2 className="risk-head">The model</h2>
      <p data-testid="risk-model-version">
        Version {model.version} of the model for “{model.studyName}”{model.approvedAt ? `, approved for patients on ${formatDate(model.approvedAt.slice(0, 10))}` : ''}.
      </p>
      <Validation model={model} />
      <p className="small muted">
        {model.statistics.source === 'study'
          ? `Typical values are the averages across the patients of the study’s ${model.statistics.sites} hospitals.`
          : 'Typical values come from published reference data: the study has not combined its hospitals’ averages yet.'}
      </p>
      <p className="chat-disclaimer">
        Worked out on this device ({result.backend === 'webgl' ? 'WebGL' : 'CPU'}, in your browser). Your answers were not sent anywhere. {DISCLAIMER}
      </p>
    </div>
  );
}

function listText(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
