import { describe, expect, it } from 'vitest';
import { loadKnowledgeBase } from '../../server/chat/articleSources';
import { asksForQuantity, hasQuantity } from './quantity';
import { respond } from './respond';

describe('questions that ask for a number', () => {
  it('tells a question for a quantity from one for a definition or an explanation', () => {
    for (const q of [
      'What is a normal cholesterol level?',
      'what number is high cholesterol',
      'How many minutes of exercise a week?',
      'How long can chest pain last?',
      'What should my maximum heart rate be?',
      'At what age does family history count?',
      'What blood pressure counts as high?',
      'what is a healthy blood pressure',
    ])
      expect(asksForQuantity(q), q).toBe(true);
    for (const q of ['What is LDL cholesterol?', 'The risk check gave me a high result, should I see a doctor?', 'Why does smoking harm the heart?', 'What is a thallium scan?'])
      expect(asksForQuantity(q), q).toBe(false);
  });

  it('finds a quantity with its unit, a reading or a range, and not a bare number', () => {
    for (const s of ['a total cholesterol of 5 mmol/L or less', 'at least 150 minutes of moderate activity', 'between 90/60 and 120/80', 'on at least two days a week', '42 to 47 mmol/mol', 'about 220 minus your age', 'before 55'])
      expect(hasQuantity(s), s).toBe(true);
    for (const s of ['LDL cholesterol is often called "bad" cholesterol.', 'Call 999 in the UK.', 'Hepatitis C can be cured.']) expect(hasQuantity(s), s).toBe(false);
  });

  it('answers "what is a normal level" with the article’s number, not its definitions', () => {
    const kb = loadKnowledgeBase();
    for (const [q, slug, number] of [
      ['What is a normal cholesterol level?', 'cholesterol', '5 mmol/L'],
      ['what number is high cholesterol', 'cholesterol', '5 mmol/L'],
      ['What should my maximum heart rate be during an exercise test?', 'heart-tests', '220 minus your age'],
    ] as const) {
      const r = respond(kb, q);
      expect(r.kind, q).toBe('answer');
      if (r.kind !== 'answer') continue;
      expect(r.ranking[0], q).toBe(slug);
      expect(r.excerpts[0].sentences.join(' '), q).toContain(number);
    }
  });
});
