import type { TabularRecord, TaskTemplate } from '../tasks/spec';

/**
 * Records in columnar form, as they are stored in IndexedDB: one Float64Array of `n × features`
 * values (NaN where a value is missing) instead of `n` objects. Structured clone copies typed arrays
 * in one block, so chunks of this form store and load far faster than arrays of records.
 */
export interface RecordBatch {
  n: number;
  /** Feature names, in template order: the column order of `values`. */
  features: string[];
  ids: string[];
  /** Row-major, `n × features.length`; NaN marks a missing value. */
  values: Float64Array;
  labels: Uint8Array;
}

export const featureNames = (template: TaskTemplate): string[] => template.features.map((f) => f.name);

/** Accumulates accepted rows and hands them out in batches of a fixed size. */
export class BatchBuilder {
  private ids: string[] = [];
  private values: Float64Array;
  private labels: Uint8Array;
  private n = 0;
  readonly width: number;

  constructor(
    readonly features: string[],
    readonly capacity: number,
  ) {
    this.width = features.length;
    this.values = new Float64Array(capacity * this.width);
    this.labels = new Uint8Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  get full(): boolean {
    return this.n >= this.capacity;
  }

  /** `row` holds one value per feature (NaN when missing). */
  add(id: string, row: ArrayLike<number>, label: number): void {
    if (this.full) throw new RangeError('batch is full');
    this.values.set(row, this.n * this.width);
    this.labels[this.n] = label;
    this.ids.push(id);
    this.n++;
  }

  /** The rows so far, as a batch of their own; the builder starts empty again. */
  take(): RecordBatch {
    const batch: RecordBatch = {
      n: this.n,
      features: this.features,
      ids: this.ids,
      values: this.values.slice(0, this.n * this.width),
      labels: this.labels.slice(0, this.n),
    };
    this.ids = [];
    this.n = 0;
    return batch;
  }
}

export function recordsToBatch(features: string[], records: readonly TabularRecord[]): RecordBatch {
  const builder = new BatchBuilder(features, Math.max(1, records.length));
  const row = new Float64Array(features.length);
  for (const r of records) {
    for (let j = 0; j < features.length; j++) {
      const v = r.values[features[j]];
      row[j] = v === null || v === undefined ? NaN : v;
    }
    builder.add(r.id, row, r.label);
  }
  return builder.take();
}

export function batchToRecords(batch: RecordBatch): TabularRecord[] {
  return recordsAt(batch);
}

/** Only the batch's records at `rows`, in that order. */
export function batchRowsToRecords(batch: RecordBatch, rows: ArrayLike<number>): TabularRecord[] {
  return recordsAt(batch, rows);
}

function recordsAt(batch: RecordBatch, rows?: ArrayLike<number>): TabularRecord[] {
  const { features } = batch;
  const width = features.length;
  const n = rows ? rows.length : batch.n;
  const out: TabularRecord[] = new Array(n);
  for (let r = 0; r < n; r++) {
    const i = rows ? rows[r] : r;
    if (!(Number.isInteger(i) && i >= 0 && i < batch.n)) throw new RangeError(`row ${i} is outside a batch of ${batch.n}`);
    const values: Record<string, number | null> = {};
    for (let j = 0; j < width; j++) {
      const v = batch.values[i * width + j];
      values[features[j]] = Number.isNaN(v) ? null : v;
    }
    out[r] = { id: batch.ids[i], values, label: batch.labels[i] as TabularRecord['label'] };
  }
  return out;
}

/** Bytes a batch takes in storage, roughly: its typed arrays plus its ids. */
export function batchBytes(batch: RecordBatch): number {
  return batch.values.byteLength + batch.labels.byteLength + batch.ids.reduce((s, id) => s + 2 * id.length + 8, 0);
}
