import { useCallback, useEffect, useRef, useState } from 'react';
import { detectEmergency } from '../../../shared/chat';
import { publicRiskModelSchema, type PublicRiskModel } from '../../../shared/protocol/riskModel';
import { apiFetch, ApiRequestError } from '../../api/http';
import { answer as answerQuestion } from '../answerSource';
import type { NewChatEntry } from '../conversation';
import { startRiskWorker, type RiskWorker } from './client';
import { explainFactors } from './factors';
import { answerCurrent, currentQuestion, isComplete, startInterview, type Interview } from './interview';
import type { RiskBackend } from './protocol';
import type { Question } from './questions';
import type { RiskStep } from './steps';

/** The study whose approved model the chat page runs: the demo's heart-risk study unless `?study=` names another. */
export const DEFAULT_RISK_STUDY = 'heart-demo';

export type RiskPhase = 'idle' | 'loading' | 'asking' | 'computing';

const STOP = /^(?:please\s+)?(?:stop|cancel|quit|exit|end|abort)(?:\s+(?:the|this|my))?(?:\s+risk)?(?:\s+check)?(?:\s+please)?[.!]*$/i;

function questionStep(q: Question, index: number, total: number): RiskStep {
  return {
    kind: 'question',
    feature: q.feature,
    number: index + 1,
    total,
    prompt: q.prompt,
    help: q.help,
    choices: q.kind === 'choice' ? q.choices.map((c) => ({ value: c.value, label: c.label })) : [],
    unknownAllowed: q.unknownAllowed,
  };
}

function unavailableText(e: unknown): string {
  if (e instanceof ApiRequestError && e.status === 404) {
    return 'The risk check is not available yet: no model has been approved for patients in this study. Until then, I can answer questions about heart and liver health.';
  }
  if (e instanceof ApiRequestError && e.code === 'network') {
    return 'I could not reach the server to fetch the model, so the risk check cannot start. Please check your connection and try again.';
  }
  return `The risk check could not start (${(e as Error).message}). Please try again later.`;
}

/**
 * The on-device risk check, as a conversation: fetch what the approved model needs (no answers are
 * sent), ask the features one at a time, then compute the estimate and its factors in a worker. The
 * answers live in this hook's memory and the tab's own conversation, and go nowhere else.
 */
export function useRiskCheck(add: (entry: NewChatEntry) => string) {
  const [phase, setPhaseState] = useState<RiskPhase>('idle');
  const [question, setQuestion] = useState<Question | null>(null);
  const phaseRef = useRef<RiskPhase>('idle');
  const interview = useRef<Interview | null>(null);
  const info = useRef<PublicRiskModel | null>(null);
  const worker = useRef<{ remote: RiskWorker; terminate: () => void } | null>(null);

  const setPhase = (p: RiskPhase) => {
    phaseRef.current = p;
    setPhaseState(p);
  };
  const say = useCallback((step: RiskStep) => add({ role: 'risk', step, deviceOnly: true }), [add]);

  useEffect(
    () => () => {
      worker.current?.terminate();
      worker.current = null;
    },
    [],
  );

  const params = () => new URLSearchParams(window.location.search);
  const studyId = () => params().get('study') || DEFAULT_RISK_STUDY;
  const backend = (): RiskBackend => (params().get('backend') === 'webgl' ? 'webgl' : 'cpu');
  const modelUrl = (m: PublicRiskModel) => new URL(m.modelUrl, window.location.origin).toString();
  const fetchInfo = async () =>
    publicRiskModelSchema.parse(await apiFetch<unknown>(`/api/public/studies/${encodeURIComponent(studyId())}/risk-model`));

  const ask = useCallback(
    (iv: Interview) => {
      const q = currentQuestion(iv);
      setQuestion(q);
      if (q) say(questionStep(q, iv.index, iv.questions.length));
    },
    [say],
  );

  const end = useCallback(() => {
    interview.current = null;
    setQuestion(null);
    setPhase('idle');
  }, []);

  const start = useCallback(async () => {
    if (phaseRef.current !== 'idle') return;
    setPhase('loading');
    let model: PublicRiskModel;
    try {
      model = await fetchInfo();
    } catch (e) {
      say({ kind: 'unavailable', text: unavailableText(e) });
      end();
      return;
    }
    info.current = model;
    // Fetch the model while the patient answers; the answers reach the worker only at the end.
    worker.current ??= startRiskWorker();
    worker.current.remote.load(modelUrl(model), backend()).catch(() => undefined);
    const iv = startInterview(model.features);
    interview.current = iv;
    const required = iv.questions.filter((q) => !q.unknownAllowed).map((q) => q.label.toLowerCase());
    const unknownRule = required.length
      ? `Except for your ${required.join(' and ')}, you can answer “I don’t know”: I will then use the study’s typical value.`
      : 'You can answer “I don’t know” to any question: I will then use the study’s typical value.';
    say({
      kind: 'intro',
      text:
        `I’ll ask you ${iv.questions.length} questions, one at a time, then estimate how likely heart disease is for someone with your answers, using the model the hospitals of “${model.studyName}” trained together (version ${model.version}). ` +
        `Your answers stay on this device: the estimate is worked out in your browser, and nothing you type here is sent anywhere. ` +
        `${unknownRule} Type “stop” at any time to end the check.`,
    });
    setPhase('asking');
    ask(iv);
  }, [ask, end, say]);

  const stop = useCallback(
    (text = 'I’ve stopped the risk check; your answers are forgotten. Ask me anything about heart and liver health, or press “Check my risk” to start again.') => {
      if (phaseRef.current === 'idle') return;
      say({ kind: 'stopped', text });
      end();
    },
    [end, say],
  );

  const compute = useCallback(
    async (iv: Interview) => {
      const model = info.current!;
      setPhase('computing');
      try {
        worker.current ??= startRiskWorker();
        const result = await worker.current.remote.assess({ modelUrl: modelUrl(model), features: iv.features, values: iv.answers });
        // Approved moved on between the two requests: show the metrics of the version that ran.
        let shown = model;
        if (result.version !== model.version) {
          const fresh = await fetchInfo().catch(() => null);
          shown = fresh && fresh.version === result.version ? fresh : { ...model, version: result.version, approvedAt: null, validation: null };
        }
        say({
          kind: 'result',
          result: {
            probability: result.probability,
            baselineProbability: result.baselineProbability,
            factors: explainFactors(iv.features, iv.answers, result.attributions),
            model: {
              version: shown.version,
              approvedAt: shown.approvedAt,
              studyName: shown.studyName,
              outcome: shown.outcome,
              validation: shown.validation,
              statistics: shown.statistics,
            },
            backend: result.backend,
          },
        });
      } catch (e) {
        say({ kind: 'unavailable', text: `I could not run the model on this device (${(e as Error).message}). Nothing was sent anywhere; please try again later.` });
      }
      end();
    },
    [end, say],
  );

  /** The patient's reply to the current question: typed text, or a button's label. */
  const reply = useCallback(
    async (text: string) => {
      const iv = interview.current;
      if (phaseRef.current !== 'asking' || !iv) return;
      const message = text.trim();
      if (!message) return;
      add({ role: 'user', text: message, deviceOnly: true });
      // Safety first, even mid-check: an emergency gets the urgent answer, and the check stops.
      if (detectEmergency(message)) {
        add({ role: 'assistant', reply: await answerQuestion(message) });
        stop('I’ve stopped the risk check so that you can get help now.');
        return;
      }
      if (STOP.test(message)) {
        stop();
        return;
      }
      const outcome = answerCurrent(iv, message);
      if (!outcome.accepted) {
        say({ kind: 'refusal', text: outcome.refusal });
        return;
      }
      interview.current = outcome.interview;
      if (outcome.note) say({ kind: 'note', text: outcome.note });
      if (isComplete(outcome.interview)) {
        setQuestion(null);
        await compute(outcome.interview);
      } else ask(outcome.interview);
    },
    [add, ask, compute, say, stop],
  );

  return { phase, question, active: phase !== 'idle', start, reply, stop };
}
