import type { TaskTemplate } from '../../tasks/spec';
import { labelClasses } from '../stats';

/**
 * Where an image's label comes from, before any pixel is read: the name of the folder it sits in
 * (`positive/scan-01.png`), or a CSV of file name and label. Either way a file gets a raw label value
 * (the folder name, the CSV cell), and a mapping, guessed and then editable, turns each value into one
 * of the template's classes, or skips the files that carry it.
 */

export type ImageType = 'png' | 'jpeg';

/** Raw label value → class index, or null to leave those files out. */
export type LabelMapping = Record<string, number | null>;

const EXTENSIONS: Record<string, ImageType> = { png: 'png', jpg: 'jpeg', jpeg: 'jpeg', jpe: 'jpeg', jfif: 'jpeg' };

/** The image type a file name promises, by its extension. */
export function imageTypeOfName(name: string): ImageType | null {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? null : (EXTENSIONS[name.slice(dot + 1).toLowerCase()] ?? null);
}

export const isCsvName = (name: string): boolean => /\.(csv|tsv)$/i.test(name);

/** The image type the file's first bytes show: PNG's eight-byte signature, or JPEG's start-of-image marker. */
export function sniffImageType(head: Uint8Array): ImageType | null {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (head.length >= 8 && png.every((b, i) => head[i] === b)) return 'png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  return null;
}

/** A path with forward slashes and no leading `./` or `/`. */
export const normalisePath = (path: string): string => path.replace(/\\/g, '/').replace(/^(\.\/|\/)+/, '');

export function baseName(path: string): string {
  const p = normalisePath(path);
  return p.slice(p.lastIndexOf('/') + 1);
}

/** The folder a file sits in (its last directory), or null for a file chosen on its own. */
export function parentFolder(path: string): string | null {
  const parts = normalisePath(path).split('/');
  return parts.length > 1 ? parts[parts.length - 2] : null;
}

/** Lower case, letters and digits only: `No_Lesion`, `no-lesion` and `no lesion` are one name. */
const compact = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '');

const POSITIVE = ['positive', 'pos', 'yes', 'true', 'abnormal', 'present', 'p'];
const NEGATIVE = ['negative', 'neg', 'no', 'false', 'normal', 'absent', 'healthy', 'control', 'none', 'n'];

/**
 * The class a raw label value names, or null when it names none: a class index (`0`, `class_1`), a
 * class name, and for a binary template the common words for positive and negative, including the
 * label's own name (`lesion`, `lesions`) and its negation (`no_lesion`, `non-lesion`).
 */
export function guessClass(value: string, template: TaskTemplate): number | null {
  const classes = labelClasses(template);
  const v = compact(value);
  if (!v) return null;
  const index = v.match(/^(?:class|label|cls|grade|stage|y)?(\d+)$/);
  if (index) {
    const k = Number(index[1]);
    return k < classes.length ? k : null;
  }
  const byName = classes.findIndex((c) => compact(c) === v);
  if (byName >= 0) return byName;
  if (classes.length !== 2) return null;
  const name = compact(template.label.name);
  const positive = new Set([...POSITIVE, compact(template.label.positive), name, `${name}s`, `with${name}`]);
  const negative = new Set([...NEGATIVE, compact(template.label.negative)]);
  for (const prefix of ['no', 'non', 'not', 'without']) for (const n of [name, `${name}s`]) negative.add(prefix + n);
  if (negative.has(v)) return 0;
  if (positive.has(v)) return 1;
  return null;
}

export interface LabelValue {
  /** The folder name or CSV cell, as written. */
  value: string;
  /** Images that carry it. */
  files: number;
  /** The class its images get; null: they are left out. */
  classIndex: number | null;
  /** Whether `classIndex` is Consilium's guess rather than the person's choice. */
  guessed: boolean;
}

/**
 * Each distinct raw label value with its image count and class: the person's mapping where it names
 * the value, the guess otherwise. Sorted by value, so the list reads the same on every import.
 */
export function labelValues(values: readonly (string | null)[], template: TaskTemplate, mapping: LabelMapping = {}): LabelValue[] {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  const classCount = labelClasses(template).length;
  return [...counts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([value, files]) => {
      if (Object.hasOwn(mapping, value)) {
        const chosen = mapping[value];
        const valid = chosen === null || (Number.isInteger(chosen) && chosen >= 0 && chosen < classCount);
        return { value, files, classIndex: valid ? chosen : null, guessed: false };
      }
      return { value, files, classIndex: guessClass(value, template), guessed: true };
    });
}

/** The class of each image from its raw value, through the resolved label values; null: left out. */
export function classesOf(values: readonly (string | null)[], resolved: readonly LabelValue[]): (number | null)[] {
  const byValue = new Map(resolved.map((l) => [l.value, l.classIndex]));
  return values.map((v) => (v === null ? null : (byValue.get(v) ?? null)));
}

/**
 * The order images are stored in: by path, compared code unit by code unit, so the same folder gives
 * the same dataset and fingerprint whatever order the browser listed its files in.
 */
export function storageOrder(paths: readonly string[]): number[] {
  return paths.map((_, i) => i).sort((a, b) => (paths[a] < paths[b] ? -1 : paths[a] > paths[b] ? 1 : a - b));
}
