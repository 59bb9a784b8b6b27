import { describe, expect, it } from 'vitest';
import { ImportCancelledError } from '../../shared/data/csv/issues';
import type { ImageBatch } from '../../shared/data/images/batch';
import { fingerprintImages } from '../../shared/data/images/fingerprint';
import { hcvStage, lesionImages } from '../../shared/tasks';
import { ImageDecodeError } from './imageDecode';
import { analyseImageFiles, IMAGE_CHUNK, type ImageDecoder } from './imageImport';

const SIZE = 32 * 32;

/** Files whose text says what they decode to: `gray 40` is a flat image of level 40, `wide 9` a 64 × 32 one, `bad` is not an image. */
const decoder: ImageDecoder<string> & { opened: number; discarded: number } = {
  opened: 0,
  discarded: 0,
  async open(file) {
    this.opened++;
    const text = await file.text();
    if (text.startsWith('bad')) throw new ImageDecodeError('not a PNG or JPEG image (the file does not start like one)');
    return text;
  },
  read(text) {
    const [kind, level] = text.split(' ');
    return { pixels: new Uint8Array(SIZE).fill(Number(level)), sourceWidth: kind === 'wide' ? 64 : 32, sourceHeight: 32 };
  },
  discard() {
    this.discarded++;
  },
};

const file = (text: string) => new Blob([text]);

async function run(files: { path: string; file: Blob }[], options = {}, template = lesionImages, signal = new AbortController().signal) {
  const batches: ImageBatch[] = [];
  const progress: number[] = [];
  const analysis = await analyseImageFiles({ files, options }, template, {
    signal,
    decoder,
    onProgress: (p) => progress.push(p.done),
    onBatch: async (b) => void batches.push(b),
  });
  return { analysis, batches, progress };
}

describe('an image import, with labels from folders', () => {
  const folder = [
    { path: 'scans/positive/b.png', file: file('gray 200') },
    { path: 'scans/negative/a.png', file: file('gray 10') },
    { path: 'scans/positive/a.png', file: file('wide 150') },
    { path: 'scans/negative/broken.png', file: file('bad') },
    { path: 'scans/unsure/c.png', file: file('gray 90') },
    { path: 'scans/readme.txt', file: file('notes') },
    { path: 'scans/loose.png', file: file('gray 1') },
  ];

  it('stores the labelled images in path order, lists the undecodable ones and counts the rest', async () => {
    const { analysis, batches, progress } = await run(folder);
    expect(analysis.labelSource).toBe('folders');
    expect(analysis.labels.map((l) => [l.value, l.files, l.classIndex])).toEqual([
      ['negative', 2, 0],
      ['positive', 2, 1],
      ['scans', 1, null],
      ['unsure', 1, null],
    ]);
    expect(analysis.skipped).toBe(2);
    expect(analysis).toMatchObject({ accepted: 3, failedCount: 1, labelCounts: [1, 2], canImport: true });
    expect(analysis.failed).toEqual([{ path: 'scans/negative/broken.png', reason: 'not a PNG or JPEG image (the file does not start like one)' }]);
    expect(analysis.selection).toMatchObject({ files: 7, images: 6, ignored: 1, ignoredExamples: ['scans/readme.txt'] });
    expect(batches).toHaveLength(1);
    expect(batches[0].ids).toEqual(['scans/negative/a.png', 'scans/positive/a.png', 'scans/positive/b.png']);
    expect(Array.from(batches[0].labels)).toEqual([0, 1, 1]);
    expect([batches[0].pixels[0], batches[0].pixels[SIZE], batches[0].pixels[2 * SIZE]]).toEqual([10, 150, 200]);
    expect(analysis.fingerprint).toBe(await fingerprintImages(lesionImages, batches));
    expect(analysis.sourceSizes).toEqual({ minWidth: 32, maxWidth: 64, minHeight: 32, maxHeight: 32, stretched: 1 });
    expect(analysis.thumbnails.map((t) => [t.path, t.classIndex])).toEqual([
      ['scans/negative/a.png', 0],
      ['scans/positive/a.png', 1],
      ['scans/positive/b.png', 1],
    ]);
    expect(progress.at(-1)).toBe(4);
    const messages = analysis.issues.map((i) => i.message).join('\n');
    expect(messages).toMatch(/“unsure” \(1 image\) is not mapped/);
    expect(messages).toMatch(/1 image\(s\) could not be decoded/);
    expect(messages).toMatch(/1 image\(s\) are not square/);
  });

  it("follows the person's mapping, and imports nothing when nothing has a class", async () => {
    const { analysis } = await run(folder, { mapping: { unsure: 1, positive: null } });
    expect(analysis).toMatchObject({ accepted: 2, labelCounts: [1, 1] });
    const none = await run(folder, { mapping: { unsure: null, positive: null, negative: null } });
    expect(none.analysis).toMatchObject({ accepted: 0, canImport: false, fingerprint: null });
    expect(none.batches).toHaveLength(0);
  });

  it('hands over chunks of a fixed size', async () => {
    const many = Array.from({ length: IMAGE_CHUNK + 5 }, (_, i) => ({ path: `s/1/${String(i).padStart(5, '0')}.png`, file: file(`gray ${i % 256}`) }));
    const { analysis, batches } = await run(many);
    expect(batches.map((b) => b.n)).toEqual([IMAGE_CHUNK, 5]);
    expect(analysis.thumbnails).toHaveLength(6);
    expect(analysis.fingerprint).toBe(await fingerprintImages(lesionImages, batches));
  });

  it('stops when cancelled and frees images decoded ahead', async () => {
    const controller = new AbortController();
    const many = Array.from({ length: 50 }, (_, i) => ({ path: `s/0/${i}.png`, file: file('gray 5') }));
    decoder.discarded = 0;
    const batches: ImageBatch[] = [];
    const running = analyseImageFiles({ files: many }, lesionImages, {
      signal: controller.signal,
      decoder,
      onProgress: (p) => p.done === 10 && controller.abort(),
      onBatch: async (b) => void batches.push(b),
    });
    await expect(running).rejects.toThrow(ImportCancelledError);
    expect(batches).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 10));
    expect(decoder.discarded).toBeGreaterThan(0);
  });

  it('refuses a template that takes no images', async () => {
    await expect(run(folder, {}, hcvStage)).rejects.toThrow(/does not take images/);
  });
});

describe('an image import, with labels from a CSV', () => {
  const files = [
    { path: 'x.png', file: file('gray 1') },
    { path: 'y.png', file: file('gray 2') },
    { path: 'z.png', file: file('gray 3') },
    { path: 'labels.csv', file: file('file,label\nx.png,1\ny.png,no lesion\nghost.png,1\n') },
  ];

  it('labels named files, leaves the others out and reports rows naming no image', async () => {
    const { analysis } = await run(files);
    expect(analysis.labelSource).toBe('csv');
    expect(analysis.labelSources).toEqual(['csv']);
    expect(analysis.csv).toMatchObject({ name: 'labels.csv', rows: 3, header: true, fileColumn: 'file', labelColumn: 'label', unmatched: [{ line: 4, file: 'ghost.png' }] });
    expect(analysis).toMatchObject({ accepted: 2, labelCounts: [1, 1], unlabelled: { count: 1, examples: ['z.png'] } });
    expect(analysis.issues.map((i) => i.message).join('\n')).toMatch(/1 row\(s\) of labels.csv name no chosen image/);
  });

  it('can use the folders instead when the images sit in labelled folders', async () => {
    const both = [...files.slice(0, 3).map((f) => ({ ...f, path: `0/${f.path}` })), files[3]];
    expect((await run(both)).analysis.labelSource).toBe('csv');
    const { analysis } = await run(both, { labelSource: 'folders' });
    expect(analysis).toMatchObject({ labelSource: 'folders', labelSources: ['csv', 'folders'], accepted: 3, labelCounts: [3, 0] });
  });

  it('blocks the import on a label file it cannot read', async () => {
    const { analysis } = await run([files[0], { path: 'labels.csv', file: file('only-one-column\n') }]);
    expect(analysis.canImport).toBe(false);
    expect(analysis.issues.find((i) => i.severity === 'error')?.message).toMatch(/two columns/);
  });
});
