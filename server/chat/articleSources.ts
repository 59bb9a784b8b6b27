import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { knowledgeBaseFromSources, type KnowledgeBase } from '../../shared/chat/knowledgeBase';

/** The knowledge base's folder: content/kb at the repository root. */
export const KB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../content/kb');

/** Reads every article file, in name order, for knowledgeBaseFromSources(). */
export function readArticleSources(dir = KB_DIR): { name: string; source: string }[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((name) => ({ name, source: fs.readFileSync(path.join(dir, name), 'utf8') }));
}

let cached: KnowledgeBase | undefined;

/** The knowledge base built from content/kb, once per process. */
export function loadKnowledgeBase(): KnowledgeBase {
  cached ??= knowledgeBaseFromSources(readArticleSources());
  return cached;
}
