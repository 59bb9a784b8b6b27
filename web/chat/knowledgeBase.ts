import { knowledgeBaseFromSources, type KnowledgeBase } from '../../shared/chat';

// The articles are bundled at build time; the index is built in the browser on first use (it is small:
// a few dozen sections), so nothing is fetched at run time.
const sources = import.meta.glob('/content/kb/*.md', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

let kb: KnowledgeBase | undefined;

export function knowledgeBase(): KnowledgeBase {
  kb ??= knowledgeBaseFromSources(
    Object.entries(sources)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, source]) => ({ name: name.split('/').pop()!, source })),
  );
  return kb;
}
