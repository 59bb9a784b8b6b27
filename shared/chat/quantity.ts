import { normalise } from './text';

/**
 * Questions that ask for a number ("What is a normal cholesterol level?", "How many minutes a week?",
 * "What should my maximum heart rate be?") and sentences that give one ("a total cholesterol of 5
 * mmol/L or less"). The answer picker prefers, for such a question, the section and the sentence that
 * carry a quantity with its unit: the right article's definition is not an answer to "how much".
 * General wording only; nothing here names a topic.
 */

const ASKS_FOR_QUANTITY = new RegExp(
  [
    // "how much", "how many", "how long", "how high", "how often"…
    String.raw`\bhow (?:much|many|long|often|high|low|old|far|fast|slow)\b`,
    // "what number", "what level", "at what age", "which reading"…
    String.raw`\b(?:what|which) (?:\w+ ){0,2}(?:number|level|age|reading|value|figure|percentage|range|target|limit|cut-?off|threshold)s?\b`,
    // "a normal cholesterol level", "healthy blood pressure", "ideal weight"; not "a high result", which
    // says what the patient got and does not ask for a number
    String.raw`\b(?:normal|healthy|ideal|target|recommended|safe) (?:\w+ ){0,3}(?:level|number|reading|range|value|rate|pressure|cholesterol|sugar|glucose|weight|amount)s?\b`,
    // "what counts as high"
    String.raw`\bcounts? as (?:high|low|normal|raised)\b`,
    // "what should my heart rate be", "what should it be"
    String.raw`\bwhat should (?:my|the|a|an|it|they|i)\b(?:.*\bbe\b)`,
  ].join('|'),
);

/** Whether a question asks for a quantity: a level, an amount, a duration, an age, a reading. */
export function asksForQuantity(question: string): boolean {
  return ASKS_FOR_QUANTITY.test(normalise(question));
}

const NUMBER = String.raw`(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty)`;
const UNIT = String.raw`(?:%|percent\b|mmol|mg\b|mg/|mmhg|mm\b|kg\b|cm\b|g\b|units?\b|seconds?\b|minutes?\b|hours?\b|days?\b|weeks?\b|months?\b|years?\b|beats?\b|bpm\b|times\b|steps\b|litres?\b|ml\b)`;
/** A number with a unit ("5 mmol/L", "150 minutes", "two days"), a reading ("120/80"), a range ("42 to 47") or a formula ("220 minus your age"). */
const QUANTITY = new RegExp(String.raw`\b${NUMBER}\s*${UNIT}|\b\d+\s*/\s*\d+\b|\b\d+(?:[.,]\d+)?\s+(?:to|and|or|minus|plus)\s+(?:\d|your\b)|\b(?:under|over|above|below|before|after|at least|at most|more than|less than)\s+\d`, 'i');

/** Whether a sentence (or a section) states a quantity with its unit, a reading or a range. */
export function hasQuantity(text: string): boolean {
  return QUANTITY.test(text);
}
