import type { Feature, TaskTemplate } from '../tasks/spec';
import type { RecordBatch } from './columnar';

export interface CategoryCount {
  code: number;
  label: string;
  count: number;
}

/** What a site sees of one feature of its own data before it imports it. Never leaves the browser. */
export interface FeatureStats {
  name: string;
  label: string;
  kind: Feature['kind'];
  /** Values present. */
  count: number;
  missing: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  /** Binary and categorical features: how often each code occurs (values outside the codes never reach here). */
  categories?: CategoryCount[];
}

export interface DatasetStats {
  records: number;
  features: FeatureStats[];
  /** Records per label value (class index; 0 negative, 1 positive for a binary template). */
  labelCounts: number[];
}

/** The label's classes by index: `[negative, positive]` for a binary template. */
export function labelClasses(template: TaskTemplate): string[] {
  return template.label.classes ?? [template.label.negative, template.label.positive];
}

/** Per-feature count, missing, min/max/mean/std and category counts, accumulated one record at a time. */
export class StatsAccumulator {
  private readonly count: Float64Array;
  private readonly sum: Float64Array;
  private readonly sumSq: Float64Array;
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly codes: (Map<number, number> | null)[];
  private readonly labels: number[];
  private records = 0;

  constructor(private readonly template: TaskTemplate) {
    const w = template.features.length;
    this.count = new Float64Array(w);
    this.sum = new Float64Array(w);
    this.sumSq = new Float64Array(w);
    this.min = new Float64Array(w).fill(Infinity);
    this.max = new Float64Array(w).fill(-Infinity);
    this.codes = template.features.map((f) => (f.kind === 'numeric' ? null : new Map()));
    this.labels = labelClasses(template).map(() => 0);
  }

  add(values: ArrayLike<number>, label: number): void {
    this.records++;
    this.labels[label] = (this.labels[label] ?? 0) + 1;
    for (let j = 0; j < values.length; j++) {
      const v = values[j];
      if (Number.isNaN(v)) continue;
      this.count[j]++;
      this.sum[j] += v;
      this.sumSq[j] += v * v;
      if (v < this.min[j]) this.min[j] = v;
      if (v > this.max[j]) this.max[j] = v;
      const codes = this.codes[j];
      if (codes) codes.set(v, (codes.get(v) ?? 0) + 1);
    }
  }

  addBatch(batch: RecordBatch): void {
    const w = batch.features.length;
    for (let i = 0; i < batch.n; i++) this.add(batch.values.subarray(i * w, (i + 1) * w), batch.labels[i]);
  }

  result(): DatasetStats {
    const features = this.template.features.map((f, j): FeatureStats => {
      const n = this.count[j];
      const mean = n > 0 ? this.sum[j] / n : null;
      const variance = n > 1 && mean !== null ? Math.max(0, (this.sumSq[j] - n * mean * mean) / (n - 1)) : null;
      const stats: FeatureStats = {
        name: f.name,
        label: f.label,
        kind: f.kind,
        count: n,
        missing: this.records - n,
        min: n > 0 ? this.min[j] : null,
        max: n > 0 ? this.max[j] : null,
        mean,
        std: variance === null ? null : Math.sqrt(variance),
      };
      const codes = this.codes[j];
      if (codes && f.kind === 'categorical') {
        stats.categories = f.categories.map((c) => ({ code: c.code, label: c.label, count: codes.get(c.code) ?? 0 }));
      } else if (codes && f.kind === 'binary') {
        stats.categories = f.values.map((label, code) => ({ code, label, count: codes.get(code) ?? 0 }));
      }
      return stats;
    });
    return { records: this.records, features, labelCounts: [...this.labels] };
  }
}

/**
 * Train and validation sizes of the seeded stratified split (`splitTrainValidation`) from the label
 * counts alone: each label keeps `round(fraction × count)` rows for validation.
 */
export function splitCounts(labelCounts: readonly number[], validationFraction: number): { train: number; validation: number } {
  let validation = 0;
  let total = 0;
  for (const c of labelCounts) {
    total += c;
    validation += Math.round(validationFraction * c);
  }
  return { train: total - validation, validation };
}
