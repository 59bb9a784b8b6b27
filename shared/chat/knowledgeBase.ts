import MiniSearch from 'minisearch';
import { parseArticle, toPassages, type Article, type Passage } from './articles';
import { asksForQuantity, hasQuantity } from './quantity';
import { bandWordsFor } from './riskBands';
import { SpellingCorrector } from './spelling';
import { conceptSpans, synonymWords } from './synonyms';
import { isConcept, isContentWord, normalise, stem, tokenize, words } from './text';

/**
 * In a question that asks for a number, the words that only say so ("what is a normal … level", "what
 * number"): its form, not its topic. They are left out of section ranking, where the quantity boost
 * stands for them; otherwise "level" would pick whichever section says "levels" most.
 */
const QUANTITY_FORM_WORDS = new Set(['level', 'number', 'normal', 'reading', 'value', 'figure', 'range', 'amount', 'percentage'].map(stem));
/** Words that name opposite kinds of result: a question about one is not answered by a section headed by the other. */
const OPPOSITES: [string, string][] = [
  ['high', 'low'],
  ['rais', 'lower'],
];

/** Field weights: a query word in an article's title or keywords says more than one in its prose. */
const FIELD_BOOST = { title: 2, keywords: 1.5, heading: 1.5, text: 1 };

/**
 * The "no good match" line. An answer is given only when the best section covers at least this share of
 * the question's information (its words weighted by how rare they are here; see `units`). Chosen on the
 * calibration questions (eval/calibration.json), never on the evaluation set: `npm run eval:chat --
 * --calibrate` prints the decision accuracy for each candidate. 0.45 and 0.55 tied there; 0.55 was taken
 * because its errors lean to "I can't answer that" rather than to quoting an article that does not fit.
 */
export const MIN_COVERAGE = 0.55;

export interface PassageHit {
  passage: Passage;
  score: number;
  /** Query terms this passage matched (exactly, fuzzily or through a synonym concept). */
  matched: string[];
  /** Share of the query's weighted terms matched by this passage, 0..1. */
  coverage: number;
}

export interface ArticleHit {
  article: Article;
  score: number;
  /** Its matching passages, best first. */
  passages: PassageHit[];
  /** The best coverage among its passages. */
  coverage: number;
}

export interface SearchOutcome {
  /** The query after spelling correction, as searched. */
  corrected: string;
  terms: string[];
  /** Articles, best first. */
  hits: ArticleHit[];
  /** Whether the best article answers the question well enough to quote it. */
  confident: boolean;
}

interface PassageDoc {
  id: string;
  slug: string;
  title: string;
  heading: string;
  text: string;
  keywords: string;
}

export interface KnowledgeBase {
  articles: Article[];
  passages: Passage[];
  article(slug: string): Article | undefined;
  search(query: string): SearchOutcome;
  /** Rarity weight of a processed term: rare terms say more about what a question is about. */
  weight(term: string): number;
  /**
   * An article's sections ranked for a (corrected) query by their own heading and text only, without the
   * article-wide title and keywords that make every section of the article match alike.
   */
  rankSections(query: string, slug: string): Passage[];
}

/** Builds the knowledge base from article sources (the markdown files' text). */
export function knowledgeBaseFromSources(sources: { name: string; source: string }[]): KnowledgeBase {
  return buildKnowledgeBase(sources.map((s) => parseArticle(s.source, s.name)));
}

/**
 * "What is LDL?", "What are triglycerides?", "What does oldpeak mean?": a question asking for a
 * definition. "What is a normal cholesterol level?" asks for a number, not a definition.
 */
export function isDefinitionQuestion(query: string): boolean {
  if (asksForQuantity(query)) return false;
  return /^(?:what(?: is| are|'s| does| do)|define|definition of|meaning of|explain)\b/.test(normalise(query).replace(/^(?:and|so|ok|please),? /, ''));
}

/**
 * Terms a sentence defines: those among its first five words, when the sentence goes on to say what
 * they are ("LDL cholesterol (…) is often called…", "This is called ST depression").
 */
export function definedTerms(sentences: string[]): Set<string> {
  const out = new Set<string>();
  for (const s of sentences) {
    const norm = normalise(s);
    if (!/\b(?:is|are|means|called|refers to)\b/.test(norm)) continue;
    const head = words(norm).slice(0, 5).join(' ');
    for (const t of tokenize(head)) out.add(t);
    const called = /\b(?:called|known as)\s+([a-z0-9\s-]{2,40}?)(?:[,.;:(]|$)/.exec(norm);
    if (called) for (const t of tokenize(called[1])) out.add(t);
  }
  return out;
}

export function buildKnowledgeBase(articlesIn: Article[]): KnowledgeBase {
  const articles = [...articlesIn].sort((a, b) => a.slug.localeCompare(b.slug));
  const seen = new Set<string>();
  for (const a of articles) {
    if (seen.has(a.slug)) throw new Error(`two articles have the slug "${a.slug}"`);
    seen.add(a.slug);
  }
  const bySlug = new Map(articles.map((a) => [a.slug, a]));
  const passages = articles.flatMap(toPassages);
  const passageById = new Map(passages.map((p) => [p.id, p]));

  const docs: PassageDoc[] = passages.map((p) => {
    const a = bySlug.get(p.slug)!;
    return {
      id: p.id,
      slug: p.slug,
      title: a.title,
      heading: p.heading === a.title ? '' : p.heading,
      text: p.text,
      keywords: [...a.keywords, a.summary].join('. '),
    };
  });

  const index = new MiniSearch<PassageDoc>({
    fields: ['title', 'heading', 'text', 'keywords'],
    storeFields: ['slug'],
    tokenize: (text) => tokenize(text),
    // tokenize() already stems and adds synonym concepts.
    processTerm: (term) => term,
  });
  index.addAll(docs);

  /**
   * Sections of one article, ranked for a query by the query's own words (concepts only when no word
   * matches): a word weighs its rarity among the article's sections, so "hepatitis C" (everywhere in
   * the hepatitis C article) counts for little and "tested" (in one section) decides; repeats count, with
   * diminishing returns; a section whose heading has the word gets a bonus. Article-wide fields (title,
   * keywords) are left out, since every section shares them.
   */
  function rankSections(query: string, slug: string): Passage[] {
    const own = passages.filter((p) => p.slug === slug);
    const bagOf = (p: Passage, text: string) => {
      const heading = p.heading === p.articleTitle ? '' : p.heading;
      const counts = new Map<string, number>();
      const tokens = tokenize(`${heading} ${text}`);
      for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
      return { counts, length: tokens.length, heading: new Set(tokenize(heading)), defines: definedTerms(p.sentences) };
    };
    type Bag = ReturnType<typeof bagOf>;
    const bags = own.map((p) => bagOf(p, p.text));
    const avgLength = bags.reduce((s, b) => s + b.length, 0) / Math.max(1, bags.length);
    const quantity = asksForQuantity(query);
    const asked = [...new Set(tokenize(query))];
    const topical = quantity ? asked.filter((t) => !QUANTITY_FORM_WORDS.has(t)) : asked;
    const all = topical.length ? topical : asked;
    const definitional = isDefinitionQuestion(query);
    const scoreWith = (terms: string[], of: (Bag | null)[] = bags) =>
      of.map((b) => {
        if (!b) return 0;
        let score = 0;
        for (const t of terms) {
          const df = bags.filter((x) => x.counts.has(t)).length;
          if (!df) continue;
          const idf = Math.log((own.length + 1) / (df + 0.5));
          const tf = b.counts.get(t) ?? 0;
          // BM25's saturation and length normalisation (k1 = 1.2, b = 0.75).
          score += idf * ((tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * b.length) / avgLength)));
          if (b.heading.has(t)) score += 2 * idf;
          if (definitional && b.defines.has(t)) score += 2 * idf;
        }
        return score;
      });
    const plainTerms = all.filter((t) => !isConcept(t));
    let scores = scoreWith(plainTerms);
    if (scores.every((x) => x <= 0)) scores = scoreWith(all.filter(isConcept));
    // "What is a normal cholesterol level?", "what number is high cholesterol": the section whose
    // numbers are about what was asked answers it, not the one that uses the words most. A section is
    // scored again on its sentences that state a quantity alone; those that match come first.
    let first: number[] = scores.map(() => 0);
    if (quantity) {
      const quantityBags = own.map((p) => {
        const stated = p.sentences.filter(hasQuantity);
        return stated.length ? bagOf(p, stated.join(' ')) : null;
      });
      first = scoreWith(plainTerms, quantityBags);
    }
    // "I got a high result": not the section headed "If your result is low".
    const askedSet = new Set(asked);
    for (const [a, b] of OPPOSITES) {
      for (const [want, avoid] of [[a, b], [b, a]]) {
        if (!askedSet.has(want) || askedSet.has(avoid)) continue;
        const demote = (x: number, i: number) => (bags[i].heading.has(avoid) && !bags[i].heading.has(want) ? x * 0.25 : x);
        scores = scores.map(demote);
        first = first.map(demote);
      }
    }
    return own
      .map((p, i) => ({ p, q: first[i], s: scores[i], i }))
      .sort((a, b) => b.q - a.q || b.s - a.s || a.i - b.i)
      .map((x) => x.p);
  }

  // Document frequency of every processed term over passages, for the rarity weights.
  const df = new Map<string, number>();
  for (const d of docs) {
    for (const t of new Set(tokenize(`${d.title} ${d.heading} ${d.text} ${d.keywords}`))) df.set(t, (df.get(t) ?? 0) + 1);
  }
  const n = docs.length;
  const weight = (term: string) => Math.log(1 + n / Math.max(1, df.get(term) ?? 1));
  const maxWeight = Math.log(1 + n); // a word the knowledge base never uses: as rare as a word can be

  const vocabulary: string[] = [];
  for (const d of docs) vocabulary.push(...words(normalise(`${d.title} ${d.heading} ${d.text} ${d.keywords}`)));
  vocabulary.push(...synonymWords());
  const speller = new SpellingCorrector(vocabulary, stem);

  function correct(query: string): string {
    return normalise(query).replace(/[a-z]+/g, (w) => (isContentWord(w) ? speller.correct(w) : w));
  }

  /**
   * The question's information units: one per content word, each matched by its own stem or by any
   * synonym concept whose phrase covers it (so "heart attack" is two units, and a passage that says
   * "myocardial infarction" matches both). A unit weighs as much as its word is rare in the knowledge
   * base; a word the knowledge base never uses weighs the most, since it is what the question is about
   * and nothing here speaks to it.
   */
  function units(corrected: string): { alternatives: string[]; weight: number }[] {
    const concepts = new Map<string, string[]>();
    const out: { alternatives: string[]; weight: number }[] = [];
    for (const span of conceptSpans(corrected)) {
      const spanStems = words(span.text).filter(isContentWord).map(stem);
      if (spanStems.length === 0) out.push({ alternatives: [span.concept], weight: weight(span.concept) });
      for (const st of spanStems) concepts.set(st, [...(concepts.get(st) ?? []), span.concept]);
    }
    // A bare number ("my risk says 95%", "my cholesterol is 6.2") is the patient's own reading, not what
    // the question is about: it neither needs a match nor counts against one, unless it is all there is.
    const contentStems = [...new Set(words(corrected).filter(isContentWord).map(stem))];
    const topical = contentStems.filter((st) => !/^\d+$/.test(st));
    for (const st of topical.length ? topical : contentStems) {
      const cs = concepts.get(st) ?? [];
      const known = df.has(st) ? weight(st) : Math.max(0, ...cs.filter((c) => df.has(c)).map(weight));
      out.push({ alternatives: [st, ...cs], weight: known || maxWeight });
    }
    return out;
  }

  function search(query: string): SearchOutcome {
    // A quoted percentage in a question about a risk estimate reads as its band ("95%" → "high").
    const plain = correct(query);
    const corrected = [plain, ...bandWordsFor(plain)].join(' ');
    const terms = [...new Set(tokenize(corrected))];
    const qUnits = units(corrected);
    if (terms.length === 0 || qUnits.length === 0) return { corrected, terms, hits: [], confident: false };
    const totalWeight = qUnits.reduce((s, u) => s + u.weight, 0);

    const results = index.search(corrected, {
      boost: FIELD_BOOST,
      // Misspellings the corrector left alone; never for concept terms, which are exact by design.
      fuzzy: (term) => (isConcept(term) || term.length < 5 ? false : 0.2),
      weights: { fuzzy: 0.4, prefix: 0.3 },
      prefix: false,
      combineWith: 'or',
    });

    const byArticle = new Map<string, ArticleHit>();
    for (const r of results) {
      const passage = passageById.get(r.id as string)!;
      const matched = [...new Set(r.queryTerms)];
      const m = new Set(matched);
      const coverage = qUnits.filter((u) => u.alternatives.some((a) => m.has(a))).reduce((s, u) => s + u.weight, 0) / totalWeight;
      const hit: PassageHit = { passage, score: r.score, matched, coverage };
      const existing = byArticle.get(passage.slug);
      if (existing) existing.passages.push(hit);
      else byArticle.set(passage.slug, { article: bySlug.get(passage.slug)!, score: 0, passages: [hit], coverage: 0 });
    }
    const hits = [...byArticle.values()];
    for (const h of hits) {
      // A section's rank is its BM25 score scaled by how much of the question it covers: a section that
      // repeats one common word ("exercise") must not beat one that answers every part ("exercise each week").
      h.passages.sort((a, b) => b.score * b.coverage - a.score * a.coverage);
      // The best section decides; a second strong section adds a little (the article is about it throughout).
      const rank = (p: PassageHit | undefined) => (p ? p.score * p.coverage : 0);
      h.score = rank(h.passages[0]) + 0.25 * rank(h.passages[1]);
      h.coverage = Math.max(...h.passages.map((p) => p.coverage));
    }
    hits.sort((a, b) => b.score - a.score || a.article.slug.localeCompare(b.article.slug));
    const confident = hits.length > 0 && hits[0].coverage >= MIN_COVERAGE;
    return { corrected, terms, hits, confident };
  }

  return { articles, passages, article: (slug) => bySlug.get(slug), search, weight, rankSections };
}
