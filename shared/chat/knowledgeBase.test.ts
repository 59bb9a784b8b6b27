import { describe, expect, it } from 'vitest';
import { buildKnowledgeBase } from './knowledgeBase';
import { editDistance, SpellingCorrector } from './spelling';
import { loadKnowledgeBase } from '../../server/chat/articleSources';
import { tokenize } from './text';

const article = (slug: string, title: string, body: string) => ({
  slug,
  title,
  reviewed: '2026-01-01',
  guidance: ['NHS'],
  summary: `About ${title}.`,
  keywords: [],
  body,
});

describe('text processing', () => {
  it('stems, drops stop words and adds synonym concepts', () => {
    expect(tokenize('What does smoking do to the arteries?')).toEqual(expect.arrayContaining(['smoke', 'arteri']));
    expect(tokenize('What does smoking do')).not.toContain('what');
    const a = tokenize('heart attack');
    const b = tokenize('myocardial infarction');
    expect(a.filter((t) => b.includes(t))).toEqual(['~heartattack']);
    expect(tokenize('my BP')).toContain('~bloodpressure');
    expect(tokenize('hep c')).toEqual(expect.arrayContaining(['~hepc']));
    expect(tokenize('Hepatitis C')).toEqual(expect.arrayContaining(['~hepc']));
    expect(tokenize('raised liver enzymes')).toEqual(expect.arrayContaining(['~liverenzymes']));
    expect(tokenize('ALT and AST')).toEqual(expect.arrayContaining(['~liverenzymes']));
    expect(tokenize('blood sugar')).toEqual(expect.arrayContaining(['~glucose']));
    expect(tokenize('glucose')).toEqual(expect.arrayContaining(['~glucose']));
  });

  it('edit distance counts a swap of neighbouring letters as one edit', () => {
    expect(editDistance('pian', 'pain')).toBe(1);
    expect(editDistance('cholestrol', 'cholesterol')).toBe(1);
    expect(editDistance('weather', 'heart', 1)).toBe(2);
  });

  it('corrects unknown words towards the vocabulary, not known ones', () => {
    const s = new SpellingCorrector(['cholesterol', 'cirrhosis', 'pressure', 'measures'], (w) => w.replace(/s$/, ''));
    expect(s.correct('cholestrol')).toBe('cholesterol');
    expect(s.correct('cirrosis')).toBe('cirrhosis');
    expect(s.correct('presure')).toBe('pressure');
    expect(s.correct('measure')).toBe('measure');
    expect(s.correct('football')).toBe('football');
  });
});

describe('search', () => {
  const kb = buildKnowledgeBase([
    article('mi', 'Heart attack', 'A myocardial infarction happens when a coronary artery is blocked and heart muscle is starved of blood.'),
    article('bp', 'Blood pressure', 'Blood pressure is the force of blood on artery walls. Hypertension means it stays high.'),
    article('liver', 'Liver tests', 'ALT and AST are liver enzymes. Bilirubin makes skin yellow.'),
  ]);

  it('finds a passage through a synonym it does not contain', () => {
    expect(kb.search('what is a heart attack').hits[0].article.slug).toBe('mi');
    expect(kb.search('what is myocardial infarction').hits[0].article.slug).toBe('mi');
    expect(kb.search('my BP is high').hits[0].article.slug).toBe('bp');
    expect(kb.search('raised liver enzymes').hits[0].article.slug).toBe('liver');
  });

  it('tolerates misspellings', () => {
    const r = kb.search('hypertenshun');
    expect(r.corrected).toBe('hypertension');
    expect(r.hits[0].article.slug).toBe('bp');
    expect(kb.search('bilirubine levels').hits[0].article.slug).toBe('liver');
  });

  it('is not confident about a question it has nothing on', () => {
    expect(kb.search('who won the football').confident).toBe(false);
    expect(kb.search('what is hypertension').confident).toBe(true);
  });

  it('refuses two articles with one slug', () => {
    expect(() => buildKnowledgeBase([article('x', 'One', 'Text one here.'), article('x', 'Two', 'Text two here.')])).toThrow(/slug "x"/);
  });
});

describe('search over content/kb', () => {
  const kb = loadKnowledgeBase();

  it('indexes every article as sections', () => {
    expect(kb.passages.length).toBeGreaterThan(kb.articles.length * 3);
    for (const a of kb.articles) expect(kb.passages.some((p) => p.slug === a.slug)).toBe(true);
  });

  it('finds each article from its own title', () => {
    for (const a of kb.articles) expect(kb.search(a.title).hits[0].article.slug).toBe(a.slug);
  });
});
