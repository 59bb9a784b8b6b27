import { describe, expect, it } from 'vitest';
import { asksForDosing } from './dosing';

describe('dosing questions', () => {
  it.each([
    'How many milligrams of atorvastatin should I take?',
    'What dose of aspirin should I take for my heart?',
    'Can I double my blood pressure tablets if I missed one?',
    'how much insulin do I need',
    'Is 20 mg of simvastatin too much?',
    'what is the maximum dose of paracetamol',
    'How often should I take my ramipril?',
    'Can I take more metformin if my sugar is high?',
    'should I halve my statin dose',
    'What dosage of sofosbuvir is used for hepatitis C?',
  ])('asks for a dose: %s', (q) => expect(asksForDosing(q)).toBe(true));

  it.each([
    'How much exercise should I do each week?',
    'How much salt should I have a day?',
    'How much alcohol is too much for my liver?',
    'Is there a cure for hepatitis C?',
    'What is a statin?',
    'What is a normal fasting glucose level in mg/dL?',
    'What does 140/90 mmHg mean?',
  ])('does not: %s', (q) => expect(asksForDosing(q)).toBe(false));
});
