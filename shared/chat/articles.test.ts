import { describe, expect, it } from 'vitest';
import { readArticleSources } from '../../server/chat/articleSources';
import { parseArticle, splitSentences, toPassages } from './articles';

const sample = `---
title: A test article
slug: test-article
reviewed: 2026-01-31
guidance: [NHS, WHO]
summary: A short summary for the test.
keywords: [alpha, beta gamma]
---

# A test article

Opening paragraph. It has two sentences.

## First section

- **Bold item** with *emphasis*.
- A [link](https://example.org) item;

Closing line with 7.0 mmol/L in it.
`;

describe('articles', () => {
  it('parses front matter and splits sections into passages', () => {
    const a = parseArticle(sample, 'sample.md');
    expect(a).toMatchObject({ slug: 'test-article', guidance: ['NHS', 'WHO'], keywords: ['alpha', 'beta gamma'], reviewed: '2026-01-31' });
    const ps = toPassages(a);
    expect(ps.map((p) => p.heading)).toEqual(['A test article', 'First section']);
    expect(ps[0].sentences).toEqual(['Opening paragraph.', 'It has two sentences.']);
    expect(ps[1].sentences).toEqual(['Bold item with emphasis.', 'A link item;', 'Closing line with 7.0 mmol/L in it.']);
    expect(ps[1].listItem).toEqual([true, true, false]);
    expect(ps[1].block).toEqual([0, 1, 2]);
  });

  it('names the file and the field when front matter is wrong', () => {
    expect(() => parseArticle(sample.replace('guidance: [NHS, WHO]', 'guidance: []'), 'bad.md')).toThrow(/bad\.md: guidance/);
    expect(() => parseArticle(sample.replace('2026-01-31', 'January'), 'bad.md')).toThrow(/bad\.md: reviewed/);
    expect(() => parseArticle('# no front matter', 'none.md')).toThrow(/none\.md: missing front matter/);
  });

  it('keeps decimal numbers inside one sentence', () => {
    expect(splitSentences('A level of 7.0 mmol/L or more. Next one!')).toEqual(['A level of 7.0 mmol/L or more.', 'Next one!']);
  });
});

describe('the knowledge base in content/kb', () => {
  const articles = readArticleSources().map((s) => parseArticle(s.source, s.name));

  it('has the patient articles the chat promises, each with a unique slug matching its file', () => {
    expect(articles.length).toBeGreaterThanOrEqual(10);
    const files = readArticleSources().map((s) => s.name.replace(/\.md$/, ''));
    expect(articles.map((a) => a.slug)).toEqual(files);
    for (const slug of ['hepatitis-c', 'liver-blood-tests', 'cholesterol', 'blood-pressure', 'exercise-ecg', 'risk-estimates', 'consilium-risk-check'])
      expect(files).toContain(slug);
  });

  it.each(readArticleSources().map((s) => [s.name, s.source]))('%s: reviewed, sourced, short, without dosing', (name, source) => {
    const a = parseArticle(source, name);
    expect(new Date(a.reviewed).getTime()).not.toBeNaN();
    expect(a.guidance.length).toBeGreaterThan(0);
    const words = a.body.split(/\s+/).length;
    expect(words).toBeGreaterThan(200);
    expect(words).toBeLessThan(800);
    // Doses are for the prescriber: no "N mg" amounts (mg/dL laboratory units are fine).
    expect(a.body).not.toMatch(/\d\s?(?:mg|mcg|micrograms?|milligrams?)\b(?!\/)/i);
  });
});
