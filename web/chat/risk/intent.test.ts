import { describe, expect, it } from 'vitest';
import { SUGGESTED_QUESTIONS } from '../suggestions';
import { wantsRiskCheck } from './intent';

describe('asking for the risk check', () => {
  it('starts it when the patient asks for it in their own words', () => {
    for (const m of [
      'Check my risk',
      'check my risk please',
      'Can you calculate my heart disease risk?',
      "I'd like to check my risk",
      'I want to know my risk of heart disease',
      "What's my risk?",
      'what is my heart risk',
      'Please estimate my risk',
      'risk check',
      'start the risk check',
      'Could you work out my cardiac risk?',
    ]) {
      expect(wantsRiskCheck(m), m).toBe(true);
    }
  });

  it('leaves questions about risk, and about the check itself, to the knowledge base', () => {
    for (const m of [
      ...SUGGESTED_QUESTIONS,
      'What does a 20% risk estimate mean?',
      'Do my answers leave my device when I check my risk?',
      'What raises the risk of heart disease?',
      'Does smoking increase my risk?',
      'How accurate is the risk check?',
      'my risk',
    ]) {
      expect(wantsRiskCheck(m), m).toBe(false);
    }
  });
});
