import { z } from 'zod';

/**
 * An article's front matter. The format is deliberately small (one `key: value` per line, lists as
 * `[a, b]`) so it needs no YAML parser in the browser, and zod checks every field.
 */
export const articleMetaSchema = z.object({
  title: z.string().min(3),
  slug: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'slug: lower-case words joined by hyphens'),
  reviewed: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'reviewed: a date as YYYY-MM-DD'),
  guidance: z.array(z.string().min(2)).min(1, 'guidance: name at least one public health body'),
  summary: z.string().min(10),
  keywords: z.array(z.string()).default([]),
});
export type ArticleMeta = z.infer<typeof articleMetaSchema>;

export interface Article extends ArticleMeta {
  /** The markdown after the front matter. */
  body: string;
}

/** A section of an article: the unit that is indexed, ranked and quoted. */
export interface Passage {
  id: string;
  slug: string;
  articleTitle: string;
  /** The section's heading; the article title for the text before the first `##`. */
  heading: string;
  /** Plain text, markdown removed. */
  text: string;
  /** Sentences and list items, in order, for extractive answers. */
  sentences: string[];
  /** Parallel to `sentences`: whether each came from a list item, so a quote can show it as one. */
  listItem: boolean[];
  /** Parallel to `sentences`: the paragraph or list item each came from (0, 1, 2…), to rejoin them. */
  block: number[];
}

export function articleHref(slug: string): string {
  return `/chat/articles/${slug}`;
}

function parseValue(raw: string): string | string[] {
  const v = raw.trim();
  if (v.startsWith('[') && v.endsWith(']'))
    return v
      .slice(1, -1)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return v;
}

/** Parses one article file; throws with the file name and the field when it is malformed. */
export function parseArticle(source: string, fileName = 'article'): Article {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n([\s\S]*)$/.exec(source.replace(/^\uFEFF/, ''));
  if (!m) throw new Error(`${fileName}: missing front matter between --- lines`);
  const fields: Record<string, string | string[]> = {};
  for (const line of m[1].split(/\r?\n/)) {
    if (!line.trim()) continue;
    const i = line.indexOf(':');
    if (i < 1) throw new Error(`${fileName}: front matter line is not "key: value": ${line}`);
    fields[line.slice(0, i).trim()] = parseValue(line.slice(i + 1));
  }
  const meta = articleMetaSchema.safeParse(fields);
  if (!meta.success) {
    const problems = meta.error.issues.map((i) => `${i.path.join('.') || 'front matter'}: ${i.message}`).join('; ');
    throw new Error(`${fileName}: ${problems}`);
  }
  return { ...meta.data, body: m[2].trim() };
}

/** Markdown inline syntax to plain text: emphasis, code, links. */
export function stripInline(md: string): string {
  return md
    .replace(/!\[[^\]]*\]\([^)]*\)/g, '')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/(\*|_)(.+?)\1/g, '$2')
    .replace(/`([^`]+)`/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Splits prose into sentences at ". ", "! " or "? " followed by a capital, a digit or an opening
 * quote, so "7.0 mmol/L" stays whole; abbreviations such as "e.g." are avoided in the articles.
 */
export function splitSentences(paragraph: string): string[] {
  return paragraph
    .split(/(?<=[.!?])\s+(?=[A-Z0-9"\u201c(])/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** One block per paragraph or list item, inline markdown removed. */
function blocks(markdown: string): { text: string; listItem: boolean }[] {
  const out: { text: string; listItem: boolean }[] = [];
  let para: string[] = [];
  let inItem = false;
  const flush = () => {
    const text = stripInline(para.join(' '));
    if (text) out.push({ text, listItem: inItem });
    para = [];
    inItem = false;
  };
  for (const line of markdown.split(/\r?\n/)) {
    const item = /^\s*(?:[-*+]|\d+[.)])\s+(.*)$/.exec(line);
    if (item) {
      flush();
      para.push(item[1]);
      inItem = true;
    } else if (!line.trim()) {
      flush();
    } else {
      para.push(line.trim());
    }
  }
  flush();
  return out;
}

/** The article's sections as passages; the `#` title line is dropped (the title is its own field). */
export function toPassages(article: Article): Passage[] {
  const passages: Passage[] = [];
  let heading = article.title;
  let lines: string[] = [];
  const flush = () => {
    const bs = blocks(lines.join('\n'));
    if (bs.length) {
      const split = bs.map((b) => ({ parts: splitSentences(b.text), listItem: b.listItem }));
      passages.push({
        id: `${article.slug}#${passages.length}`,
        slug: article.slug,
        articleTitle: article.title,
        heading,
        text: bs.map((b) => b.text).join(' '),
        sentences: split.flatMap((b) => b.parts),
        listItem: split.flatMap((b) => b.parts.map(() => b.listItem)),
        block: split.flatMap((b, i) => b.parts.map(() => i)),
      });
    }
    lines = [];
  };
  for (const line of article.body.split(/\r?\n/)) {
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h && h[1].length === 1) continue;
    if (h) {
      flush();
      heading = stripInline(h[2]);
    } else {
      lines.push(line);
    }
  }
  flush();
  return passages;
}
