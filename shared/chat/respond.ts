import { articleHref, type Article, type Passage } from './articles';
import { asksForDosing } from './dosing';
import { detectEmergency, type EmergencyKind } from './emergency';
import { definedTerms, isDefinitionQuestion, type ArticleHit, type KnowledgeBase } from './knowledgeBase';
import { asksForQuantity, hasQuantity } from './quantity';
import { CANT_ANSWER_HINT, CANT_ANSWER_TEXT, DISCLAIMER, DOSING_TEXT, EMERGENCY_TEXT } from './replies';
import { tokenize } from './text';

/** The longest message the chat accepts; the page's input stops there too. */
export const MAX_MESSAGE_LENGTH = 500;

export interface Citation {
  slug: string;
  title: string;
  href: string;
  reviewed: string;
  guidance: string[];
}

export interface Excerpt {
  slug: string;
  title: string;
  heading: string;
  /** Sentences quoted word for word from the article, in the article's order. */
  sentences: string[];
  /** Parallel to `sentences`: whether each is a list item in the article. */
  listItem: boolean[];
  /** Parallel to `sentences`: which paragraph or list item of the section each belongs to. */
  block: number[];
}

interface ReplyBase {
  /** The whole reply as plain text, as it would be stored or streamed. */
  text: string;
  disclaimer: string;
}

export type ChatReply =
  | (ReplyBase & { kind: 'emergency'; emergency: EmergencyKind; title: string; lines: string[]; crisisLines: string[] })
  | (ReplyBase & { kind: 'dosing' })
  | (ReplyBase & {
      kind: 'answer';
      excerpts: Excerpt[];
      citations: Citation[];
      /** Article slugs, best first. */
      ranking: string[];
      /** Set when a language model wrote `text` from the retrieved passages (citations and excerpts are retrieval's). */
      generated?: { model: string; body: string };
    })
  | (ReplyBase & { kind: 'cant-answer'; hint: string; topics: Citation[] });

export function citationOf(article: Article): Citation {
  return { slug: article.slug, title: article.title, href: articleHref(article.slug), reviewed: article.reviewed, guidance: article.guidance };
}

/** Quoting budget: enough to answer, short enough to read on a phone. */
const MAX_PICKS = 3;
const MAX_WORDS = 90;
/** Context a pick brings with it (its list, the sentence a "This…" refers to) may go this far past the budget. */
const HARD_MAX_WORDS = 150;
const SHORT_LIST = 3;
const REFERS_BACK = /^(?:This|These|That|Those|It|Its|They|Their|Such|Both|Either|Together)\b/;

function wordCount(s: string): number {
  return s.split(/\s+/).filter(Boolean).length;
}

/**
 * Extractive answer from one section (the best-ranked by its own heading and text, see rankSections):
 * the best one to three sentences, by the rare question words they contain, quoted in the article's
 * order, each with the context it needs to read right on its own: a sentence that introduces a list
 * (ends with ":") brings the list, one that starts "This…" or "They…" brings the sentence before it, and
 * a very short one brings the sentence after it. For a question that asks for a number (`quantity`), the
 * best sentence that states one leads, whatever its rank among the others.
 */
function pickSentences(kb: KnowledgeBase, terms: Set<string>, passage: Passage, definitional: boolean, quantity: boolean): number[] {
  const sentences = passage.sentences;
  const sentenceWeight = (text: string) => {
    let w = 0;
    for (const t of new Set(tokenize(text))) if (terms.has(t)) w += kb.weight(t);
    // For "what is X?", the sentence that says what X is.
    if (definitional && w > 0) for (const t of definedTerms([text])) if (terms.has(t)) w += kb.weight(t);
    return w;
  };
  const ranked = sentences
    .map((s, index) => ({ index, score: sentenceWeight(s) - index * 0.01, quantity: quantity && hasQuantity(s) }))
    .filter((s) => s.score > 0)
    .sort((a, b) => Number(b.quantity) - Number(a.quantity) || b.score - a.score);
  if (ranked.length === 0) return [0, 1].filter((i) => i < sentences.length);

  const chosen = new Set<number>();
  let words = 0;
  const take = (i: number) => {
    if (i < 0 || i >= sentences.length || chosen.has(i) || words + wordCount(sentences[i]) > HARD_MAX_WORDS) return false;
    chosen.add(i);
    words += wordCount(sentences[i]);
    return true;
  };
  // A list item is quoted with the sentence that introduces its list, and a short list (three items or
  // fewer) whole; from a longer list, only the items that answer. A picked introduction brings its list.
  const takeListAround = (i: number, whole = false) => {
    let start = i;
    while (start > 0 && passage.listItem[start - 1]) start--;
    let end = i;
    while (end + 1 < sentences.length && passage.listItem[end + 1]) end++;
    if (start > 0 && sentences[start - 1].trimEnd().endsWith(':')) take(start - 1);
    const short = whole || passage.block[end] - passage.block[start] < SHORT_LIST;
    for (let j = start; j <= end; j++) if (short || passage.block[j] === passage.block[i]) take(j);
  };
  const pick = (i: number) => {
    if (passage.listItem[i]) {
      take(i);
      takeListAround(i);
      return;
    }
    if (!take(i)) return;
    if (REFERS_BACK.test(sentences[i])) take(i - 1);
    if (sentences[i].trimEnd().endsWith(':') && passage.listItem[i + 1]) takeListAround(i + 1, true);
    else if (wordCount(sentences[i]) < 10 && !passage.listItem[i + 1] && take(i + 1) && sentences[i + 1].trimEnd().endsWith(':'))
      takeListAround(i + 2, true);
  };

  const best = ranked[0];
  pick(best.index);
  let picks = 1;
  for (const s of ranked.slice(1)) {
    if (picks >= MAX_PICKS || words >= MAX_WORDS) break;
    if (chosen.has(s.index) || s.score < best.score * 0.5) continue;
    if (words + wordCount(sentences[s.index]) > MAX_WORDS) continue;
    pick(s.index);
    picks++;
  }
  return [...chosen].sort((a, b) => a - b);
}

/** Groups an excerpt's sentences back into its paragraphs and list items. */
export function excerptBlocks(e: Excerpt): { listItem: boolean; text: string }[] {
  const out: { listItem: boolean; text: string; block: number }[] = [];
  e.sentences.forEach((s, i) => {
    const last = out[out.length - 1];
    if (last && last.block === e.block[i]) last.text += ` ${s}`;
    else out.push({ listItem: e.listItem[i], text: s, block: e.block[i] });
  });
  return out.map(({ listItem, text }) => ({ listItem, text }));
}

function answerText(excerpts: Excerpt[], citations: Citation[]): string {
  const body = excerpts
    .map((e) => {
      const quote = excerptBlocks(e)
        .map((b) => (b.listItem ? `- ${b.text}` : b.text))
        .join('\n');
      return `From "${e.title}"${e.heading !== e.title ? ` (${e.heading})` : ''}:\n${quote}`;
    })
    .join('\n\n');
  const refs = citations.map((c) => `- ${c.title}: ${c.href}`).join('\n');
  return `${body}\n\nRead more:\n${refs}\n\n${DISCLAIMER}`;
}

function buildAnswer(kb: KnowledgeBase, hits: ArticleHit[], terms: string[], corrected: string): ChatReply {
  const top = hits[0];
  const termSet = new Set(terms);
  const passage = kb.rankSections(corrected, top.article.slug)[0];
  const indices = pickSentences(kb, termSet, passage, isDefinitionQuestion(corrected), asksForQuantity(corrected));
  const excerpts: Excerpt[] = [
    {
      slug: top.article.slug,
      title: top.article.title,
      heading: passage.heading,
      sentences: indices.map((i) => passage.sentences[i]),
      listItem: indices.map((i) => passage.listItem[i]),
      block: indices.map((i) => passage.block[i]),
    },
  ];
  const citations = [citationOf(top.article)];
  // A second article that answers nearly as well is worth a pointer, but not a second quote.
  const runnerUp = hits[1];
  if (runnerUp && runnerUp.score >= top.score * 0.8 && runnerUp.coverage >= top.coverage) citations.push(citationOf(runnerUp.article));
  return {
    kind: 'answer',
    excerpts,
    citations,
    ranking: hits.map((h) => h.article.slug),
    disclaimer: DISCLAIMER,
    text: answerText(excerpts, citations),
  };
}

export function cantAnswer(kb: KnowledgeBase): ChatReply {
  const topics = kb.articles.map(citationOf);
  return {
    kind: 'cant-answer',
    hint: CANT_ANSWER_HINT,
    topics,
    disclaimer: DISCLAIMER,
    text: `${CANT_ANSWER_TEXT}\n\n${CANT_ANSWER_HINT}\n${topics.map((t) => `- ${t.title}`).join('\n')}\n\n${DISCLAIMER}`,
  };
}

/**
 * Answers one patient message. The order is the safety order: an emergency gets the fixed urgent answer
 * before anything else; a question about doses gets the fixed pointer to a clinician or pharmacist; only
 * then is the knowledge base searched, and a weak match gets "I can't answer that", never a guess.
 */
export function respond(kb: KnowledgeBase, message: string): ChatReply {
  // The emergency check reads the whole message, even past the length limit.
  const emergency = detectEmergency(message);
  if (emergency) {
    const t = EMERGENCY_TEXT[emergency.kind];
    const crisisLines = t.crisisLines ?? [];
    return {
      kind: 'emergency',
      emergency: emergency.kind,
      title: t.title,
      lines: t.lines,
      crisisLines,
      disclaimer: DISCLAIMER,
      text: [t.title, ...t.lines, ...crisisLines, DISCLAIMER].join('\n'),
    };
  }
  const question = message.slice(0, MAX_MESSAGE_LENGTH);
  if (asksForDosing(question)) return { kind: 'dosing', text: `${DOSING_TEXT}\n\n${DISCLAIMER}`, disclaimer: DISCLAIMER };
  const outcome = kb.search(question);
  if (!outcome.confident) return cantAnswer(kb);
  return buildAnswer(kb, outcome.hits, outcome.terms, outcome.corrected);
}
