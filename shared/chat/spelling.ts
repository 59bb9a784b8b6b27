/** Optimal-string-alignment distance: Levenshtein plus the swap of two neighbouring letters ("pian"). */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => {
    const row = new Array<number>(cols).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j < cols; j++) d[0][j] = j;
  for (let i = 1; i < rows; i++) {
    let rowMin = Infinity;
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i][j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
  }
  return d[a.length][b.length];
}

/**
 * Repairs words that are not in the knowledge base's vocabulary towards the closest word that is, so a
 * misspelt synonym phrase ("hepatitus c") still finds its concept. Words under four letters are left
 * alone: one edit turns most of them into another real word.
 */
export class SpellingCorrector {
  private readonly byLength = new Map<number, string[]>();
  private readonly known: Map<string, number>;
  private readonly knownStems: Set<string>;

  /** `stem` lets a word count as known when another form of it is ("measure" beside "measures"). */
  constructor(vocabulary: Iterable<string>, private readonly stem: (w: string) => string = (w) => w) {
    this.known = new Map();
    for (const w of vocabulary) this.known.set(w, (this.known.get(w) ?? 0) + 1);
    for (const w of this.known.keys()) {
      const list = this.byLength.get(w.length) ?? [];
      list.push(w);
      this.byLength.set(w.length, list);
    }
    this.knownStems = new Set([...this.known.keys()].map(stem));
  }

  has(word: string): boolean {
    return this.known.has(word) || this.knownStems.has(this.stem(word));
  }

  /** The word itself when known, too short or without a close match; otherwise the closest known word. */
  correct(word: string): string {
    if (word.length < 4 || this.has(word) || /\d/.test(word)) return word;
    const max = word.length >= 8 ? 2 : 1;
    let best = word;
    let bestDist = max + 1;
    let bestFreq = 0;
    for (let len = word.length - max; len <= word.length + max; len++) {
      for (const candidate of this.byLength.get(len) ?? []) {
        // Real misspellings almost always keep the first letter.
        if (candidate[0] !== word[0]) continue;
        const d = editDistance(word, candidate, max);
        const freq = this.known.get(candidate)!;
        if (d < bestDist || (d === bestDist && freq > bestFreq)) {
          best = candidate;
          bestDist = d;
          bestFreq = freq;
        }
      }
    }
    return bestDist <= max ? best : word;
  }
}
