import type { TaskTemplate } from '../../tasks/spec';
import type { ImageBatch } from './batch';

/**
 * An image dataset's content fingerprint, built as the tabular one is (shared/data/fingerprint.ts):
 * SHA-256 (hex) of a header line and the digests of fixed-size blocks of canonical records, so memory
 * stays bounded and the result depends only on the stored images and their order, never on how they
 * were chunked. A record is the image's stored 8-bit pixels followed by its label as a little-endian
 * float64. File names are not part of it: the same scans under other names are the same data.
 */
export const IMAGE_FINGERPRINT_VERSION = 'consilium-images-v1';
export const IMAGE_BLOCK_RECORDS = 1024;

const encoder = new TextEncoder();

async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === 'string' ? encoder.encode(data) : data;
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  let out = '';
  for (const b of new Uint8Array(digest)) out += b.toString(16).padStart(2, '0');
  return out;
}

export class ImageFingerprintBuilder {
  private readonly header: string;
  private readonly recordBytes: number;
  private readonly sampleSize: number;
  private buffer: Uint8Array;
  private view: DataView;
  private inBlock = 0;
  private count = 0;
  private readonly blocks: Promise<string>[] = [];

  constructor(template: TaskTemplate) {
    const image = template.image;
    if (!image) throw new RangeError(`template '${template.id}' does not take images`);
    this.header = `${IMAGE_FINGERPRINT_VERSION}|${template.id}|${image.height}x${image.width}x${image.channels}|${template.label.name}`;
    this.sampleSize = image.height * image.width * image.channels;
    this.recordBytes = this.sampleSize + 8;
    this.buffer = new Uint8Array(IMAGE_BLOCK_RECORDS * this.recordBytes);
    this.view = new DataView(this.buffer.buffer);
  }

  add(pixels: Uint8Array, label: number): void {
    if (pixels.length !== this.sampleSize) throw new RangeError(`${pixels.length} pixel values, the template's images have ${this.sampleSize}`);
    const at = this.inBlock * this.recordBytes;
    this.buffer.set(pixels, at);
    this.view.setFloat64(at + this.sampleSize, label, true);
    this.count++;
    if (++this.inBlock === IMAGE_BLOCK_RECORDS) this.flush();
  }

  addBatch(batch: ImageBatch): void {
    const size = this.sampleSize;
    for (let i = 0; i < batch.n; i++) this.add(batch.pixels.subarray(i * size, (i + 1) * size), batch.labels[i]);
  }

  private flush(): void {
    if (this.inBlock === 0) return;
    // The digest reads the block asynchronously: it keeps this buffer, the next block gets a fresh one.
    this.blocks.push(sha256Hex(this.buffer.subarray(0, this.inBlock * this.recordBytes)));
    this.buffer = new Uint8Array(IMAGE_BLOCK_RECORDS * this.recordBytes);
    this.view = new DataView(this.buffer.buffer);
    this.inBlock = 0;
  }

  async digest(): Promise<string> {
    this.flush();
    const hashes = await Promise.all(this.blocks);
    return sha256Hex(`${this.header}|${this.count}\n${hashes.join('\n')}`);
  }
}

export async function fingerprintImages(template: TaskTemplate, batches: readonly ImageBatch[]): Promise<string> {
  const fp = new ImageFingerprintBuilder(template);
  for (const b of batches) fp.addBatch(b);
  return fp.digest();
}
