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
        /**
         * What the quoted answer must say, case-insensitively, for the question to pass: the number (with
         * its unit) or the next step it asks for, in the article's words. Only for article questions.
         */
        mustContain: z.array(z.string().min(1)).min(1).optional(),
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
  /** Its `mustContain` strings the answer's quote lacks (empty when it has them all, or asks none). */
  missing: string[];
  /** The right article first and, where the question says what the answer must hold, all of it. */
  pass: boolean;
}

export interface Evaluation {
  results: QuestionResult[];
  top1: number;
  top3: number;
  /** Share of questions that pass (see QuestionResult.pass). */
  pass: number;
  /** Of the questions with `mustContain`: how many pass, and how many there are. */
  asked: { passed: number; total: number };
}

/** The words an answer quotes, one space apart: what `mustContain` is checked against (not the citations or the disclaimer). */
export function quotedText(reply: ChatReply): string {
  const raw = reply.kind === 'answer' ? reply.excerpts.flatMap((e) => e.sentences).join(' ') : reply.text;
  return raw.replace(/\s+/g, ' ').toLowerCase();
}

/**
 * Scores the whole chat pipeline, safety checks included, on a question set. An article question is a
 * top-1 hit when the reply is an answer whose best article is the expected one, a top-3 hit when that
 * article is among its first three. "none" and "dosing" questions are right, at both levels, only when
 * the reply is the can't-answer or the dosing reply. A question passes when it is a top-1 hit and, if it
 * lists `mustContain`, the answer's quote (its excerpts' sentences) holds every one of them: the right
 * article is not enough when the question asks for a number the article gives.
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
    const quote = quotedText(reply);
    const missing = (item.mustContain ?? []).filter((m) => !quote.includes(m.replace(/\s+/g, ' ').toLowerCase()));
    const pass = top1 && missing.length === 0;
    return { q: item.q, expected: item.expected, kind: item.kind, reply: reply.kind, ranking, top1, top3, missing, pass };
  });
  const n = results.length;
  const askedIdx = set.questions.flatMap((q, i) => (q.mustContain ? [i] : []));
  return {
    results,
    top1: results.filter((r) => r.top1).length / n,
    top3: results.filter((r) => r.top3).length / n,
    pass: results.filter((r) => r.pass).length / n,
    asked: { passed: askedIdx.filter((i) => results[i].pass).length, total: askedIdx.length },
  };
}

/** The figures line `npm run eval:chat` ends with. */
export function summaryLine(e: Evaluation): string {
  return `top1=${e.top1.toFixed(2)} top3=${e.top3.toFixed(2)} pass=${e.pass.toFixed(2)} answers-with-asked-content=${e.asked.passed}/${e.asked.total} (${e.results.length} questions)`;
}
