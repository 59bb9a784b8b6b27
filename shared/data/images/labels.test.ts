import { describe, expect, it } from 'vitest';
import { hcvStage, lesionImages } from '../../tasks';
import { baseName, classesOf, guessClass, imageTypeOfName, labelValues, parentFolder, sniffImageType, storageOrder } from './labels';

describe('image files', () => {
  it('knows PNG and JPEG by their extension, whatever its case', () => {
    expect(['a.png', 'b.PNG', 'c.jpg', 'd.JPEG', 'e.jpe', 'f.gif', 'g', '.DS_Store', 'h.png.txt'].map(imageTypeOfName)).toEqual([
      'png', 'png', 'jpeg', 'jpeg', 'jpeg', null, null, null, null,
    ]);
  });

  it('knows PNG and JPEG by their first bytes, and nothing else', () => {
    expect(sniffImageType(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0))).toBe('png');
    expect(sniffImageType(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0))).toBe('jpeg');
    expect(sniffImageType(new TextEncoder().encode('not an image'))).toBeNull();
    expect(sniffImageType(Uint8Array.of(0x89, 0x50))).toBeNull();
  });

  it('finds the folder a file sits in, with either slash', () => {
    expect(parentFolder('scans/positive/a.png')).toBe('positive');
    expect(parentFolder('scans\\2024\\negative\\b.png')).toBe('negative');
    expect(parentFolder('./0/c.png')).toBe('0');
    expect(parentFolder('alone.png')).toBeNull();
    expect(baseName('scans/positive/a.png')).toBe('a.png');
  });
});

describe('label values to classes', () => {
  it('maps the usual folder names of a binary study', () => {
    const cases: [string, number | null][] = [
      ['positive', 1], ['Negative', 0], ['pos', 1], ['neg', 0], ['1', 1], ['0', 0], ['class_1', 1], ['class0', 0],
      ['lesion', 1], ['lesions', 1], ['no_lesion', 0], ['No Lesion', 0], ['non-lesion', 0], ['normal', 0], ['abnormal', 1],
      ['yes', 1], ['no', 0], ['2', null], ['cats', null], ['', null],
    ];
    for (const [name, want] of cases) expect(guessClass(name, lesionImages), name).toBe(want);
  });

  it('maps a multi-class study by class name or index only', () => {
    expect(guessClass('Cirrhosis', hcvStage)).toBe(3);
    expect(guessClass('2', hcvStage)).toBe(2);
    expect(guessClass('positive', hcvStage)).toBeNull();
  });

  it("counts each value's images, guesses their classes and lets the person's mapping win", () => {
    const values = ['positive', 'negative', 'positive', null, 'scratch', 'negative', 'positive'];
    const guessed = labelValues(values, lesionImages);
    expect(guessed).toEqual([
      { value: 'negative', files: 2, classIndex: 0, guessed: true },
      { value: 'positive', files: 3, classIndex: 1, guessed: true },
      { value: 'scratch', files: 1, classIndex: null, guessed: true },
    ]);
    const mapped = labelValues(values, lesionImages, { scratch: 1, positive: null, negative: 7 });
    expect(mapped.map((l) => [l.value, l.classIndex, l.guessed])).toEqual([
      // A class that does not exist counts as "left out".
      ['negative', null, false],
      ['positive', null, false],
      ['scratch', 1, false],
    ]);
    expect(classesOf(values, guessed)).toEqual([1, 0, 1, null, null, 0, 1]);
  });

  it('stores images in path order, whatever order the browser listed them in', () => {
    const paths = ['b/2.png', 'a/10.png', 'a/1.png', 'B/1.png'];
    expect(storageOrder(paths).map((i) => paths[i])).toEqual(['B/1.png', 'a/1.png', 'a/10.png', 'b/2.png']);
  });
});
