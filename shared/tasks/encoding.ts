import type { Feature, TabularRecord } from './spec';

/** Columns one feature takes: one numeric or binary, one per category, and one more for its missing indicator. */
export function featureWidth(f: Feature): number {
  return (f.kind === 'categorical' ? f.categories.length : 1) + (f.missingIndicator ? 1 : 0);
}

/** Width of one encoded row. */
export function encodedWidth(features: readonly Feature[]): number {
  return features.reduce((w, f) => w + featureWidth(f), 0);
}

/** Names of the encoded columns, in order (`cp=4`, `age`, `age?` for age's missing indicator, ...). */
export function encodedColumns(features: readonly Feature[]): string[] {
  return features.flatMap((f) => [
    ...(f.kind === 'categorical' ? f.categories.map((c) => `${f.name}=${c.code}`) : [f.name]),
    ...(f.missingIndicator ? [`${f.name}?`] : []),
  ]);
}

export interface EncodedDataset {
  /** Row-major, `n × width`. */
  x: Float32Array;
  /** One label per row. */
  y: Float32Array;
  n: number;
  width: number;
  /** Per feature: how many values were missing and imputed. */
  imputed: Record<string, number>;
}

function isMissing(v: number | null | undefined): v is null | undefined {
  return v === null || v === undefined || Number.isNaN(v);
}

/**
 * Encode records for the model: numeric features standardised with the template's statistics,
 * binary ones as 0/1, categorical ones one-hot. Missing values take the mean (numeric) or the mode;
 * a feature with a missing indicator also says, in its last column, whether it was missing.
 */
export function encodeRecords(features: readonly Feature[], records: readonly TabularRecord[]): EncodedDataset {
  const width = encodedWidth(features);
  const n = records.length;
  const x = new Float32Array(n * width);
  const y = new Float32Array(n);
  const imputed: Record<string, number> = Object.fromEntries(features.map((f) => [f.name, 0]));
  for (let i = 0; i < n; i++) {
    const rec = records[i];
    y[i] = rec.label;
    let col = i * width;
    for (const f of features) {
      const raw = rec.values[f.name];
      const missing = isMissing(raw);
      if (missing) imputed[f.name]++;
      switch (f.kind) {
        case 'numeric':
          x[col++] = missing ? 0 : (raw - f.mean) / f.std;
          break;
        case 'binary':
          x[col++] = missing ? f.mode : raw ? 1 : 0;
          break;
        case 'categorical': {
          const code = missing ? f.mode : raw;
          const k = f.categories.findIndex((c) => c.code === code);
          const hot = k >= 0 ? k : f.categories.findIndex((c) => c.code === f.mode);
          x[col + hot] = 1;
          col += f.categories.length;
          break;
        }
      }
      if (f.missingIndicator) x[col++] = missing ? 1 : 0;
    }
  }
  return { x, y, n, width, imputed };
}
