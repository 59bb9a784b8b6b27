import { describe, expect, it } from 'vitest';
import { CANT_ANSWER_TEXT, DISCLAIMER, DOSING_TEXT } from './replies';
import { MAX_MESSAGE_LENGTH, respond } from './respond';
import { loadKnowledgeBase } from '../../server/chat/articleSources';

const kb = loadKnowledgeBase();

describe('respond', () => {
  it('answers from the articles with quotes, a citation and a link to read more', () => {
    const r = respond(kb, 'What is the difference between HDL and LDL cholesterol?');
    expect(r.kind).toBe('answer');
    if (r.kind !== 'answer') return;
    expect(r.citations[0]).toMatchObject({ slug: 'cholesterol', href: '/chat/articles/cholesterol' });
    expect(r.citations[0].title).toMatch(/Cholesterol/);
    expect(r.excerpts[0].sentences.length).toBeGreaterThanOrEqual(1);
    expect(r.excerpts[0].sentences.join(' ')).toMatch(/LDL|HDL/);
    expect(r.text).toContain('/chat/articles/cholesterol');
    expect(r.text).toContain(DISCLAIMER);
  });

  it('quotes the articles word for word, never more than it should', () => {
    for (const q of ['How do you catch hepatitis C?', 'What is a FibroScan?', 'What does ST depression mean?', 'how much activity should adults do']) {
      const r = respond(kb, q);
      expect(r.kind, q).toBe('answer');
      if (r.kind !== 'answer') continue;
      const passages = kb.passages.filter((p) => p.slug === r.excerpts[0].slug);
      for (const s of r.excerpts[0].sentences) expect(passages.some((p) => p.sentences.includes(s)), s).toBe(true);
      const words = r.excerpts[0].sentences.join(' ').split(/\s+/).length;
      expect(words).toBeLessThan(160);
    }
  });

  it('brings the list items with a sentence that introduces them', () => {
    const r = respond(kb, 'How does hepatitis C spread?');
    expect(r.kind).toBe('answer');
    if (r.kind !== 'answer') return;
    expect(r.excerpts[0].sentences.join(' ')).toMatch(/needles/);
  });

  it('says it cannot answer, and lists what it can, when nothing matches', () => {
    for (const q of ['What is the weather tomorrow?', 'Who won the football?', 'How do I fill in my tax return?', 'hello']) {
      const r = respond(kb, q);
      expect(r.kind, q).toBe('cant-answer');
      if (r.kind !== 'cant-answer') continue;
      expect(r.text.startsWith(CANT_ANSWER_TEXT)).toBe(true);
      expect(r.topics.map((t) => t.slug)).toEqual(kb.articles.map((a) => a.slug));
    }
  });

  it('never gives doses: a dosing question gets the fixed reply', () => {
    const r = respond(kb, 'How many mg of atorvastatin should I take for my cholesterol?');
    expect(r.kind).toBe('dosing');
    expect(r.text).toContain(DOSING_TEXT);
  });

  it('puts an emergency before everything else, dosing and articles included', () => {
    const r = respond(kb, 'What dose of aspirin should I take? I have chest pain and I am sweating');
    expect(r.kind).toBe('emergency');
    if (r.kind !== 'emergency') return;
    expect(r.emergency).toBe('heart');
    expect(r.text).toMatch(/112/);
    expect(r.text).toMatch(/999/);
    expect(r.text).toMatch(/911/);
  });

  it('gives crisis lines for thoughts of suicide', () => {
    const r = respond(kb, 'I want to end my life');
    expect(r.kind).toBe('emergency');
    if (r.kind !== 'emergency') return;
    expect(r.crisisLines.join(' ')).toMatch(/116 123/);
    expect(r.crisisLines.join(' ')).toMatch(/988/);
  });

  it('reads an emergency even past the length limit', () => {
    const r = respond(kb, `${'I have a question about cholesterol. '.repeat(20)} Now I cannot breathe.`);
    expect(MAX_MESSAGE_LENGTH).toBeLessThan(700);
    expect(r.kind).toBe('emergency');
  });

  it('says "information, not a diagnosis" in every kind of reply', () => {
    for (const q of ['What is hypertension?', 'tell me a joke', 'how much insulin do I need', "I can't breathe"]) {
      const r = respond(kb, q);
      expect(r.disclaimer).toBe(DISCLAIMER);
      expect(r.text).toContain('This is information, not a diagnosis');
    }
  });
});
