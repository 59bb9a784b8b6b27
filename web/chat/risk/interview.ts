import type { Feature } from '../../../shared/tasks';
import { typicalText } from './describe';
import { parseAnswer, questionsFor, type Question } from './questions';

/**
 * The risk check's questions, one at a time: which one is next and what has been answered. Pure data,
 * so it is tested without a page; the answers live only in the page's memory.
 */
export interface Interview {
  features: Feature[];
  questions: Question[];
  /** The question being asked; `questions.length` once all are answered. */
  index: number;
  /** By feature name; null: "don't know", imputed with the study's typical value. */
  answers: Record<string, number | null>;
}

export function startInterview(features: readonly Feature[]): Interview {
  return { features: [...features], questions: questionsFor(features), index: 0, answers: {} };
}

export function currentQuestion(iv: Interview): Question | null {
  return iv.questions[iv.index] ?? null;
}

export function isComplete(iv: Interview): boolean {
  return iv.index >= iv.questions.length;
}

export type AnswerOutcome =
  | { accepted: false; interview: Interview; refusal: string }
  /** `shown`: the answer as understood; `note`: what a "don't know" means for the estimate. */
  | { accepted: true; interview: Interview; shown: string; note?: string };

/** Checks `text` as the answer to the current question; a refused answer leaves the interview as it was. */
export function answerCurrent(iv: Interview, text: string): AnswerOutcome {
  const q = currentQuestion(iv);
  if (!q) throw new Error('every question is answered');
  const parsed = parseAnswer(q, text);
  if (!parsed.ok) return { accepted: false, interview: iv, refusal: parsed.problem };
  const next: Interview = { ...iv, index: iv.index + 1, answers: { ...iv.answers, [q.feature]: parsed.value } };
  if (parsed.value !== null) return { accepted: true, interview: next, shown: parsed.shown };
  const feature = iv.features.find((f) => f.name === q.feature)!;
  return {
    accepted: true,
    interview: next,
    shown: parsed.shown,
    note: `That’s fine. For your ${q.label.toLowerCase()} I’ll use the typical value among the study’s patients, ${typicalText(feature)}, so this answer will not move your estimate up or down.`,
  };
}
