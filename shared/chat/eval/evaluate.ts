import { z } from 'zod';
import type { KnowledgeBase } from '../knowledgeBase';
import { respond, type ChatReply } from '../respond';

export const questionSetSchema = z.object({
  about: z.string().optional(),
  questions: z
    .array(
      z.object({
        q: z.string().min(1),
        /** An article slug, "none" (the can't-answer reply) or "dosing" (the fixed dosing reply). */
        expected: z.string().min(1),
        kind: z.string().optional(),
      }),
    )
    .min(1),
});
export type QuestionSet = z.infer<typeof questionSetSchema>;

export interface QuestionResult {
  q: string;
  expected: string;
  kind?: string;
  reply: ChatReply['kind'];
  /** Article slugs the reply ranked, best first (empty unless it answered). */
  ranking: string[];
  top1: boolean;
  top3: boolean;
}

export interface Evaluation {
  results: QuestionResult[];
  top1: number;
  top3: number;
}

/**
 * Scores the whole chat pipeline, safety checks included, on a question set. An article question is a
 * top-1 hit when the reply is an answer whose best article is the expected one, a top-3 hit when that
 * article is among its first three. "none" and "dosing" questions are right, at both levels, only when
 * the reply is the can't-answer or the dosing reply.
 */
export function evaluate(kb: KnowledgeBase, set: QuestionSet): Evaluation {
  const results = set.questions.map((item): QuestionResult => {
    const reply = respond(kb, item.q);
    const ranking = reply.kind === 'answer' ? reply.ranking : [];
    let top1: boolean;
    let top3: boolean;
    if (item.expected === 'none') top1 = top3 = reply.kind === 'cant-answer';
    else if (item.expected === 'dosing') top1 = top3 = reply.kind === 'dosing';
    else {
      top1 = ranking[0] === item.expected;
      top3 = ranking.slice(0, 3).includes(item.expected);
    }
    return { q: item.q, expected: item.expected, kind: item.kind, reply: reply.kind, ranking, top1, top3 };
  });
  const n = results.length;
  return {
    results,
    top1: results.filter((r) => r.top1).length / n,
    top3: results.filter((r) => r.top3).length / n,
  };
}

/** The figures line `npm run eval:chat` ends with. */
export function summaryLine(e: Evaluation): string {
  return `top1=${e.top1.toFixed(2)} top3=${e.top3.toFixed(2)}`;
}
