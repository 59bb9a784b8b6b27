import { templateFamily, type TabularRecord, type TaskTemplate } from '../tasks/spec';
import type { RecordBatch } from './columnar';

/**
 * A dataset's content fingerprint: SHA-256 (hex) over a canonical serialisation of its accepted
 * records. Each record is its feature values in template order and then its label, each written as
 * a little-endian float64 (a missing value as the one canonical NaN, -0 as 0). So the fingerprint
 * does not depend on the file's column order, delimiter, quoting, number formatting (`63` and
 * `63.0`) or line endings; it does depend on row order, which decides the seeded split.
 *
 * WebCrypto has no incremental SHA-256, so records are hashed in blocks of `BLOCK_RECORDS` and the
 * fingerprint is the SHA-256 of a header line followed by the block digests: memory stays bounded for
 * any size, and the result depends only on the records, never on how a file happened to be chunked.
 */
export const FINGERPRINT_VERSION = 'consilium-dataset-v1';
export const BLOCK_RECORDS = 4096;

const encoder = new TextEncoder();

function hex(digest: ArrayBuffer): string {
  let out = '';
  for (const b of new Uint8Array(digest)) out += b.toString(16).padStart(2, '0');
  return out;
}

const sha256Hex = async (data: Uint8Array | string) =>
  hex(await crypto.subtle.digest('SHA-256', typeof data === 'string' ? encoder.encode(data) : (data as Uint8Array<ArrayBuffer>)));

/** Writes one record at `offset` (bytes) of `view`: its values then its label, float64 little-endian. */
export function writeCanonicalRecord(view: DataView, offset: number, values: ArrayLike<number>, label: number): number {
  let o = offset;
  for (let j = 0; j < values.length; j++, o += 8) {
    const v = values[j];
    if (Number.isNaN(v)) {
      view.setUint32(o, 0, true);
      view.setUint32(o + 4, 0x7ff80000, true);
    } else view.setFloat64(o, v === 0 ? 0 : v, true);
  }
  view.setFloat64(o, label, true);
  return o + 8;
}

export class FingerprintBuilder {
  private readonly recordBytes: number;
  private buffer: ArrayBuffer;
  private view: DataView;
  private inBlock = 0;
  private count = 0;
  private readonly blocks: Promise<string>[] = [];
  private readonly header: string;

  constructor(template: TaskTemplate) {
    // Every version of a template describes the same data: one fingerprint for all of them.
    this.header = `${FINGERPRINT_VERSION}|${templateFamily(template.id)}|${template.features.map((f) => f.name).join(',')}|${template.label.name}`;
    this.recordBytes = 8 * (template.features.length + 1);
    this.buffer = new ArrayBuffer(BLOCK_RECORDS * this.recordBytes);
    this.view = new DataView(this.buffer);
  }

  /** `values` in template feature order, NaN when missing. */
  add(values: ArrayLike<number>, label: number): void {
    writeCanonicalRecord(this.view, this.inBlock * this.recordBytes, values, label);
    this.count++;
    if (++this.inBlock === BLOCK_RECORDS) this.flush();
  }

  addBatch(batch: RecordBatch): void {
    const w = batch.features.length;
    for (let i = 0; i < batch.n; i++) this.add(batch.values.subarray(i * w, (i + 1) * w), batch.labels[i]);
  }

  private flush(): void {
    if (this.inBlock === 0) return;
    // The digest reads the block asynchronously: it gets this buffer, the next block a fresh one.
    this.blocks.push(sha256Hex(new Uint8Array(this.buffer, 0, this.inBlock * this.recordBytes)));
    this.buffer = new ArrayBuffer(BLOCK_RECORDS * this.recordBytes);
    this.view = new DataView(this.buffer);
    this.inBlock = 0;
  }

  async digest(): Promise<string> {
    this.flush();
    const hashes = await Promise.all(this.blocks);
    return sha256Hex(`${this.header}|${this.count}\n${hashes.join('\n')}`);
  }
}

export async function fingerprintRecords(template: TaskTemplate, records: readonly TabularRecord[]): Promise<string> {
  const fp = new FingerprintBuilder(template);
  const row = new Float64Array(template.features.length);
  for (const r of records) {
    template.features.forEach((f, j) => {
      const v = r.values[f.name];
      row[j] = v === null || v === undefined ? NaN : v;
    });
    fp.add(row, r.label);
  }
  return fp.digest();
}

/** The first 12 hex digits: enough to tell datasets apart on a page. */
export const shortFingerprint = (hex: string | null | undefined): string => (hex ? hex.slice(0, 12) : '');
