import { stemmer } from 'stemmer';
import { conceptsIn, CONCEPT_PREFIX } from './synonyms';

/**
 * Lower-cases, strips accents, straightens quotes and expands contractions, so that the emergency
 * rules, the synonym phrases and the tokenizer all see one spelling ("can't" → "cannot").
 */
export function normalise(text: string): string {
  return (
    text
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[\u2018\u2019\u02bc`´]/g, "'")
      .replace(/[\u201c\u201d]/g, '"')
      .replace(/[\u2010-\u2015]/g, '-')
      // Contractions: the negation rules look for "not".
      .replace(/\bcan'?t\b/g, 'cannot')
      .replace(/\bwon'?t\b/g, 'will not')
      .replace(/\bain'?t\b/g, 'is not')
      .replace(/\b(do|does|did|is|are|was|were|has|have|had|could|would|should|must)n'?t\b/g, '$1 not')
      .replace(/\bi'?m\b/g, 'i am')
      .replace(/\b(i|you|we|they)'ve\b/g, '$1 have')
      .replace(/\b(i|you|we|they|he|she)'ll\b/g, '$1 will')
      .replace(/\b(i|you|we|they|he|she)'d\b/g, '$1 would')
      .replace(/\b(you|we|they)'re\b/g, '$1 are')
      .replace(/\b(it|that|what|there|he|she)'s\b/g, '$1 is')
      .replace(/'s\b/g, '')
      .replace(/\s+/g, ' ')
      .trim()
  );
}

/**
 * Words that carry no topic. Besides the usual function words this holds the words every patient
 * question shares ("what does it mean", "should I worry"), which would otherwise pull answers
 * towards whichever article happens to use them most.
 */
export const STOP_WORDS = new Set(
  `a about above after again against all also am an and any are as at be because been before being
below between both but by can cannot could did do does doing down during each even ever every few for
from further get gets getting go going got had has have having he her here hers herself him himself his
how i if in into is it its itself just let lets like likely may me mean means meaning might more most
much must my myself no nor not now of off often on once only or other others our ours ourselves out over
own please same shall she should so some such tell than that the their theirs them themselves then there
these they this those through to too under until up upon us very want was way we well were what when
where whether which while who whom whose why will with would yes yet you your yours yourself yourselves
thing things something anything really actually still ok okay hi hello thanks thank dear bit lot lots
know need needs one ones use used using say says said make makes made many sure im ive id youre whats
show shows showed shown`
    .split(/\s+/)
    .filter(Boolean),
);

/** Splits normalised text into word tokens (letters, digits, and tokens like "hba1c"). */
export function words(normalisedText: string): string[] {
  return normalisedText.match(/[a-z0-9]+/g) ?? [];
}

const stemCache = new Map<string, string>();
export function stem(word: string): string {
  let s = stemCache.get(word);
  if (s === undefined) {
    s = word.length <= 3 ? word : stemmer(word);
    stemCache.set(word, s);
  }
  return s;
}

/** Whether a word is worth indexing or searching for: not a stop word, and not a lone letter. */
export function isContentWord(word: string): boolean {
  return word.length >= 2 && !STOP_WORDS.has(word);
}

/**
 * The one tokenizer used for indexing and for queries: stemmed content words, followed by a concept
 * token for each synonym phrase found, so "heart attack" and "myocardial infarction" share a term.
 */
export function tokenize(text: string): string[] {
  const norm = normalise(text);
  const terms = words(norm).filter(isContentWord).map(stem);
  for (const c of conceptsIn(norm)) terms.push(c);
  return terms;
}

export function isConcept(term: string): boolean {
  return term.startsWith(CONCEPT_PREFIX);
}
