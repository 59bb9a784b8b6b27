import { describe, expect, it } from 'vitest';
import { heartRisk, lesionImages } from '../../tasks';
import { ImageBatchBuilder, joinImageBatches, type ImageBatch } from './batch';
import { fingerprintImages, IMAGE_BLOCK_RECORDS } from './fingerprint';

const size = 32 * 32;
const shape = { height: 32, width: 32, channels: 1 as const };

function scans(n: number, seed = 1): { pixels: Uint8Array; label: number }[] {
  let s = seed;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  return Array.from({ length: n }, (_, i) => ({ pixels: Uint8Array.from({ length: size }, next), label: i % 3 === 0 ? 1 : 0 }));
}

function batches(items: { pixels: Uint8Array; label: number }[], per: number): ImageBatch[] {
  const out: ImageBatch[] = [];
  const b = new ImageBatchBuilder(shape, per);
  items.forEach((it, i) => {
    b.add(`scan-${i}.png`, it.pixels, it.label);
    if (b.full) out.push(b.take());
  });
  if (b.size) out.push(b.take());
  return out;
}

describe('image dataset fingerprint', () => {
  const items = scans(IMAGE_BLOCK_RECORDS + 37);

  it('depends on the images and their order, not on how they were chunked or named', async () => {
    const one = await fingerprintImages(lesionImages, batches(items, 5000));
    expect(one).toMatch(/^[0-9a-f]{64}$/);
    expect(await fingerprintImages(lesionImages, batches(items, 100))).toBe(one);
    const renamed = batches(items, 300).map((b) => ({ ...b, ids: b.ids.map((id) => `other/${id}`) }));
    expect(await fingerprintImages(lesionImages, renamed)).toBe(one);
    const swapped = [items[1], items[0], ...items.slice(2)];
    expect(await fingerprintImages(lesionImages, batches(swapped, 5000))).not.toBe(one);
  });

  it('changes with one pixel and with one label', async () => {
    const one = await fingerprintImages(lesionImages, batches(items, 512));
    const pixel = items.map((it, i) => (i === 700 ? { ...it, pixels: it.pixels.map((v, j) => (j === 5 ? v ^ 1 : v)) } : it));
    expect(await fingerprintImages(lesionImages, batches(pixel, 512))).not.toBe(one);
    const label = items.map((it, i) => (i === IMAGE_BLOCK_RECORDS + 3 ? { ...it, label: 1 - it.label } : it));
    expect(await fingerprintImages(lesionImages, batches(label, 512))).not.toBe(one);
  });

  it('refuses a tabular template and images of another size', async () => {
    await expect(fingerprintImages(heartRisk, [])).rejects.toThrow(/does not take images/);
    const small: ImageBatch = { kind: 'images', n: 1, height: 16, width: 16, channels: 1, ids: ['a'], pixels: new Uint8Array(256), labels: Uint8Array.of(0) };
    await expect(fingerprintImages(lesionImages, [small])).rejects.toThrow(/256 pixel values/);
  });
});

describe('image batches', () => {
  it('join into one, in order, and refuse another size', () => {
    const items = scans(7);
    const joined = joinImageBatches(batches(items, 3), shape);
    expect(joined.n).toBe(7);
    expect(joined.ids).toEqual(items.map((_, i) => `scan-${i}.png`));
    expect(Array.from(joined.labels)).toEqual(items.map((it) => it.label));
    expect(joined.pixels.subarray(6 * size, 7 * size)).toEqual(items[6].pixels);
    expect(() => joinImageBatches(batches(items, 3), { ...shape, height: 16 })).toThrow(/stored scans are 32×32×1, the study takes 16×32×1/);
  });
});
