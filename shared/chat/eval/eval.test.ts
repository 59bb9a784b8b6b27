import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKnowledgeBase } from '../../../server/chat/articleSources';
import { evaluate, questionSetSchema } from './evaluate';

const set = questionSetSchema.parse(JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'questions.json'), 'utf8')));
const calibration = questionSetSchema.parse(JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'calibration.json'), 'utf8')));

describe('chat retrieval quality (npm run eval:chat)', () => {
  const kb = loadKnowledgeBase();

  it('the question set is large and varied enough to mean something', () => {
    expect(set.questions.length).toBeGreaterThanOrEqual(60);
    const kinds = new Set(set.questions.map((q) => q.kind));
    for (const k of ['paraphrase', 'misspelling', 'negation', 'out-of-scope']) expect(kinds).toContain(k);
    expect(set.questions.filter((q) => q.expected === 'none').length).toBeGreaterThanOrEqual(8);
    const slugs = new Set(kb.articles.map((a) => a.slug));
    for (const q of set.questions) if (q.expected !== 'none' && q.expected !== 'dosing') expect(slugs, q.q).toContain(q.expected);
    for (const a of kb.articles) expect(set.questions.some((q) => q.expected === a.slug), a.slug).toBe(true);
  });

  it('the calibration questions are not evaluation questions', () => {
    const evalQs = new Set(set.questions.map((q) => q.q.toLowerCase()));
    for (const q of calibration.questions) expect(evalQs.has(q.q.toLowerCase()), q.q).toBe(false);
  });

  it('top-1 is at least 0.80 and top-3 at least 0.95', () => {
    const e = evaluate(kb, set);
    const misses = e.results.filter((r) => !r.top3).map((r) => `${r.q} → ${r.reply} ${r.ranking.slice(0, 3).join(',')}`);
    expect(e.top1, misses.join('\n')).toBeGreaterThanOrEqual(0.8);
    expect(e.top3, misses.join('\n')).toBeGreaterThanOrEqual(0.95);
  });

  it('at least 20 questions say what the answer must hold, and it holds it for at least 0.90 of them', () => {
    const asked = set.questions.filter((q) => q.mustContain);
    expect(asked.length).toBeGreaterThanOrEqual(20);
    for (const q of asked) expect(q.expected === 'none' || q.expected === 'dosing', q.q).toBe(false);
    const e = evaluate(kb, set);
    const lacking = e.results.filter((r, i) => set.questions[i].mustContain && !r.pass).map((r) => `${r.q} → ${r.ranking[0] ?? r.reply}, lacks ${r.missing.join(', ')}`);
    expect(e.asked.passed / e.asked.total, lacking.join('\n')).toBeGreaterThanOrEqual(0.9);
  });

  it('every out-of-scope question gets the can\'t-answer reply', () => {
    const e = evaluate(kb, set);
    const wrong = e.results.filter((r) => r.expected === 'none' && r.reply !== 'cant-answer');
    expect(wrong.map((r) => r.q)).toEqual([]);
  });
});
