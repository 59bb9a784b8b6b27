import { describe, expect, it } from 'vitest';
import { featureNames, recordsToBatch, type RecordBatch } from '../data/columnar';
import type { ImageBatch } from '../data/images/batch';
import { toBytes, toUnitFloats } from '../data/images/pixels';
import { applyNormalisation, combineStatistics, siteStatistics } from '../fl/normalisation';
import { demoHospitals, generateHeartRecords } from '../synthetic/heart';
import { generateLesionImages, lesionHospitals, lesionSplit } from '../synthetic/lesions';
import { encodedWidth } from '../tasks/encoding';
import { heartRisk } from '../tasks/heartRisk';
import { concat, type Dataset } from './dataset';
import { hospitalSplit } from './split';
import { chunkImageRows, encodeChunkRows, rowsByBlock, storedSplit } from './storedSplit';
import type { BlockSource } from './stream';

/** Every block of a source, read in order and joined. */
async function readAll(source: BlockSource): Promise<Dataset> {
  const parts: Dataset[] = [];
  for (let b = 0; b < source.blockSizes.length; b++) parts.push(await source.readBlock(b));
  return concat(parts);
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Cuts `n` samples into chunks of the given sizes, the last one taking the rest. */
function chunkBounds(n: number, sizes: number[]): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (const s of sizes) {
    out.push([start, start + s]);
    start += s;
  }
  out.push([start, n]);
  return out;
}

describe('rowsByBlock', () => {
  it('maps ascending global rows to each block’s own rows', () => {
    const rows = rowsByBlock([0, 2, 3, 7, 8, 9, 14], [4, 0, 1, 5, 6]);
    expect(rows.map((r) => Array.from(r))).toEqual([[0, 2, 3], [], [], [2, 3, 4], [4]]);
    expect(rowsByBlock([], [3, 2]).map((r) => r.length)).toEqual([0, 0]);
  });

  it('refuses rows out of order or past the last block', () => {
    expect(() => rowsByBlock([3, 1], [2, 2])).toThrow(RangeError);
    expect(() => rowsByBlock([1, 1], [4])).toThrow(RangeError);
    expect(() => rowsByBlock([1, 4], [2, 2])).toThrow(/outside 4 rows/);
  });
});

describe('storedSplit', () => {
  const site = demoHospitals[1];
  const records = generateHeartRecords({ ...site, missingRate: 0.04 });
  const config = { validationFraction: 0.25, seed: 77 };
  // The study's own statistics, so encoding with them is covered too.
  const normalisation = combineStatistics(heartRisk.features, [siteStatistics(heartRisk.features, records)]);

  it('selects exactly the train and validation records of the in-memory split, encoded bit for bit', async () => {
    const memory = hospitalSplit(heartRisk, site.id, records, config, normalisation);
    // Uneven chunks, one of a single record and one that may hold no validation row at all.
    const chunks: RecordBatch[] = chunkBounds(records.length, [37, 1, 3, 120]).map(([a, b]) => recordsToBatch(featureNames(heartRisk), records.slice(a, b)));
    const features = applyNormalisation(heartRisk.features, normalisation);
    const reads: number[] = [];
    const split = storedSplit({
      labels: records.map((r) => r.label),
      chunkSizes: chunks.map((c) => c.n),
      ...config,
      splitKey: site.id,
      width: encodedWidth(heartRisk.features),
      readRows: async (c, rows) => (reads.push(c), encodeChunkRows(features, chunks[c], rows)),
    });
    for (const side of ['train', 'validation'] as const) {
      const streamed = await readAll(split[side]);
      expect(split[side].n).toBe(memory[side].n);
      expect(streamed.n).toBe(memory[side].n);
      expect(bits(streamed.x)).toEqual(bits(memory[side].x));
      expect(Array.from(streamed.y)).toEqual(Array.from(memory[side].y));
    }
    // Only chunks holding rows of a side are blocks of it, each read once per pass.
    expect(split.validation.blockSizes).toEqual(split.validationRows.filter((r) => r.length > 0).map((r) => r.length));
    expect(reads.length).toBe(split.train.blockSizes.length + split.validation.blockSizes.length);
    // Each record is on exactly one side.
    const total = split.trainRows.map((r, c) => r.length + split.validationRows[c].length);
    expect(total).toEqual(chunks.map((c) => c.n));
  });

  it('selects the same scans as the in-memory lesion split, scaled as it scales them', async () => {
    const profile = { ...lesionHospitals[2], size: 60 };
    const scans = generateLesionImages(profile, 12);
    const pixels = toBytes(scans.images);
    // The worker splits the stored 8-bit scans, scaled back to [0, 1].
    const memory = lesionSplit(profile.id, { ...scans, images: toUnitFloats(pixels) }, config);
    const size = 12 * 12;
    const chunks: ImageBatch[] = chunkBounds(scans.n, [25, 9]).map(([a, b]) => ({
      kind: 'images',
      n: b - a,
      height: 12,
      width: 12,
      channels: 1,
      ids: scans.ids.slice(a, b),
      pixels: pixels.slice(a * size, b * size),
      labels: scans.labels.slice(a, b),
    }));
    const split = storedSplit({
      labels: scans.labels,
      chunkSizes: chunks.map((c) => c.n),
      ...config,
      splitKey: profile.id,
      width: size,
      shape: [12, 12, 1],
      readRows: async (c, rows) => chunkImageRows(chunks[c], rows),
    });
    expect(split.train.shape).toEqual(memory.train.shape);
    for (const side of ['train', 'validation'] as const) {
      const streamed = await readAll(split[side]);
      expect(streamed.shape).toEqual(memory[side].shape);
      expect(bits(streamed.x)).toEqual(bits(memory[side].x));
      expect(Array.from(streamed.y)).toEqual(Array.from(memory[side].y));
    }
  });

  it('refuses labels that do not match the chunks, and a chunk that reads short', async () => {
    const base = { validationFraction: 0.5, seed: 1, splitKey: 's', width: 1 };
    const read = async (_c: number, rows: Uint32Array): Promise<Dataset> => ({ x: new Float32Array(rows.length), y: new Float32Array(rows.length), n: rows.length, width: 1 });
    expect(() => storedSplit({ ...base, labels: [0, 1, 0], chunkSizes: [2], readRows: read })).toThrow(RangeError);
    const short = storedSplit({ ...base, labels: [0, 1, 0, 1], chunkSizes: [4], readRows: async (c, rows) => read(c, rows.subarray(1)) });
    await expect(short.train.readBlock(0)).rejects.toThrow(/gave 1 samples, not 2/);
  });
});
