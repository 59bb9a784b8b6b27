/** Starting points shown under an empty conversation; each is answered by a different article. */
export const SUGGESTED_QUESTIONS = [
  'What is the difference between HDL and LDL cholesterol?',
  'What does ST depression on a stress test mean?',
  'How is hepatitis C tested for?',
  'What do ALT and AST liver tests show?',
  'What does a 20% risk estimate mean?',
  'Do my answers leave my device when I check my risk?',
];
