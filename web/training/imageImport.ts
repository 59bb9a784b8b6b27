import { ImportCancelledError } from '../../shared/data/csv/issues';
import { ImageBatchBuilder, type ImageBatch } from '../../shared/data/images/batch';
import { ImageFingerprintBuilder } from '../../shared/data/images/fingerprint';
import { LabelCsvError, matchLabelCsv, parseLabelCsv } from '../../shared/data/images/labelCsv';
import { classesOf, imageTypeOfName, isCsvName, labelValues, parentFolder, storageOrder } from '../../shared/data/images/labels';
import { labelClasses } from '../../shared/data/stats';
import type { TaskTemplate } from '../../shared/tasks';
import type { ImageAnalysis, ImageFailure, ImageImportArgs, ImageImportProgress, ImageIssue, ImageThumbnail } from './datasetProtocol';
import { ImageDecodeError, openImage, readScan, releaseCanvas, type DecodedScan } from './imageDecode';

/** Images per stored chunk: 1 MB of 32 × 32 scans. */
export const IMAGE_CHUNK = 1024;
/** Decodes in flight at once: the browser decodes on its own threads while the worker reads pixels. */
const IN_FLIGHT = 4;
const THUMBNAILS_PER_CLASS = 6;
const LISTED_EXAMPLES = 20;
const LISTED_FAILURES = 500;
/** A label CSV larger than this is not a label file. */
const MAX_LABEL_CSV_BYTES = 32 << 20;

/** How files become scans: the browser's decoder in the worker; tests bring their own. */
export interface ImageDecoder<T = unknown> {
  /** Starts decoding a file; several may be in flight. Rejects with the reason a file cannot be read. */
  open(file: Blob): Promise<T>;
  /** The opened image as the template stores it; frees what `open` made. */
  read(opened: T, width: number, height: number): DecodedScan;
  /** Frees an opened image that will not be read (the import stopped). */
  discard(opened: T): void;
  /** The import is over. */
  done?(): void;
}

export const browserDecoder: ImageDecoder<ImageBitmap> = {
  open: openImage,
  read: readScan,
  discard: (bitmap) => bitmap.close(),
  done: releaseCanvas,
};

export interface ImageImportHooks {
  signal: AbortSignal;
  onProgress?: (p: ImageImportProgress) => void;
  /** Receives decoded scans in chunks of `IMAGE_CHUNK`; awaited, so a slow store slows decoding. */
  onBatch: (batch: ImageBatch) => Promise<void>;
  decoder?: ImageDecoder;
}

const describeError = (e: unknown) => (e instanceof ImageDecodeError ? e.message : `could not be read (${e instanceof Error ? e.message : String(e)})`);

/**
 * Reads an image selection once: sorts its files into images, label CSVs and the rest, gives each
 * image its label (folder or CSV, through the mapping), then decodes every labelled image in path
 * order, handing the scans on in chunks while it counts, fingerprints and keeps a few thumbnails.
 * Images that cannot be decoded are listed with their reason and left out.
 */
export async function analyseImageFiles(args: Pick<ImageImportArgs, 'files' | 'options'>, template: TaskTemplate, hooks: ImageImportHooks): Promise<ImageAnalysis> {
  const image = template.image;
  if (!image) throw new Error(`${template.name} does not take images.`);
  if (image.channels !== 1) throw new Error(`${template.name} takes colour images, which the importer cannot store yet.`);
  const classes = labelClasses(template);
  const issues: ImageIssue[] = [];

  const images = args.files.filter((f) => imageTypeOfName(f.path) !== null);
  const labelFiles = args.files.filter((f) => isCsvName(f.path));
  const ignored = args.files.filter((f) => imageTypeOfName(f.path) === null && !isCsvName(f.path));
  const paths = images.map((f) => f.path);

  const labelSources: ImageAnalysis['labelSources'] = [];
  if (labelFiles.length > 0) labelSources.push('csv');
  if (paths.some((p) => parentFolder(p) !== null)) labelSources.push('folders');
  const labelSource = args.options?.labelSource && labelSources.includes(args.options.labelSource) ? args.options.labelSource : (labelSources[0] ?? 'folders');

  let values: (string | null)[] = paths.map(parentFolder);
  let csv: ImageAnalysis['csv'] = null;
  if (labelSource === 'csv') {
    const file = labelFiles[0];
    if (labelFiles.length > 1) issues.push({ severity: 'warning', message: `${labelFiles.length} CSV files were chosen; labels are read from ${file.path} only.` });
    try {
      if (file.file.size > MAX_LABEL_CSV_BYTES) throw new LabelCsvError(`${file.path} is too large to be a label file.`);
      const parsed = parseLabelCsv(await file.file.text(), template);
      const match = matchLabelCsv(parsed, paths);
      values = match.values;
      csv = {
        name: file.path,
        rows: parsed.rows.length + parsed.problems.length,
        header: parsed.header,
        fileColumn: parsed.columns[parsed.fileColumn],
        labelColumn: parsed.columns[parsed.labelColumn],
        unmatched: match.unmatched.slice(0, LISTED_EXAMPLES),
        problems: [
          ...parsed.problems,
          ...match.ambiguous.map((a) => ({ line: a.line, message: `${a.file} matches several chosen images; give its folder too` })),
          ...match.conflicts.map((c) => ({ line: c.line, message: `${c.file} is labelled again, differently; the first label counts` })),
        ].slice(0, LISTED_EXAMPLES),
      };
      if (match.unmatched.length > 0)
        issues.push({ severity: 'warning', message: `${match.unmatched.length} row(s) of ${file.path} name no chosen image (first: line ${match.unmatched[0].line}, ${match.unmatched[0].file}).` });
    } catch (e) {
      if (!(e instanceof LabelCsvError)) throw e;
      issues.push({ severity: 'error', message: e.message });
      values = paths.map(() => null);
    }
  }

  const labels = labelValues(values, template, args.options?.mapping);
  const classOf = classesOf(values, labels);
  const unlabelledPaths = paths.filter((_, i) => values[i] === null);
  const skipped = classOf.filter((c, i) => c === null && values[i] !== null).length;

  if (images.length === 0) issues.push({ severity: 'error', message: 'No PNG or JPEG image was chosen.' });
  if (ignored.length > 0)
    issues.push({ severity: 'info', message: `${ignored.length} file(s) that are neither PNG nor JPEG images nor a label CSV are ignored (${ignored.slice(0, 3).map((f) => f.path).join(', ')}${ignored.length > 3 ? ', …' : ''}).` });
  if (unlabelledPaths.length > 0) {
    const where = labelSource === 'csv' ? 'the label file does not name them' : 'they are not inside a folder that names their label';
    issues.push({ severity: 'warning', message: `${unlabelledPaths.length} image(s) have no label and are left out: ${where}.` });
  }
  for (const l of labels) {
    if (l.classIndex === null)
      issues.push({ severity: 'warning', message: `“${l.value}” (${l.files} image${l.files === 1 ? '' : 's'}) is not mapped to a class; map it below, or its images are left out.` });
  }

  // Decode, in path order, every image that has a class.
  const order = storageOrder(paths).filter((i) => classOf[i] !== null);
  const total = order.length;
  const builder = new ImageBatchBuilder(image, IMAGE_CHUNK);
  const fingerprint = new ImageFingerprintBuilder(template);
  const labelCounts = classes.map(() => 0);
  const failed: ImageFailure[] = [];
  const thumbnails: ImageThumbnail[] = [];
  let sizes: ImageAnalysis['sourceSizes'] = null;
  let accepted = 0;
  let failedCount = 0;
  const started = performance.now();
  const report = (done: number) => hooks.onProgress?.({ done, total, failed: failedCount });
  const decoder = (hooks.decoder ?? browserDecoder) as ImageDecoder;
  const open = (k: number) => decoder.open(images[order[k]].file).then(
    (image) => ({ image }),
    (error: unknown) => ({ error }),
  );
  const pending: ReturnType<typeof open>[] = [];
  try {
    for (let k = 0; k < Math.min(IN_FLIGHT, total); k++) pending.push(open(k));
    for (let k = 0; k < total; k++) {
      if (hooks.signal.aborted) throw new ImportCancelledError();
      const opened = await pending.shift()!;
      if (k + IN_FLIGHT < total) pending.push(open(k + IN_FLIGHT));
      const i = order[k];
      const path = paths[i];
      try {
        if ('error' in opened) throw opened.error;
        const scan = decoder.read(opened.image, image.width, image.height);
        const label = classOf[i]!;
        builder.add(path, scan.pixels, label);
        fingerprint.add(scan.pixels, label);
        labelCounts[label]++;
        accepted++;
        if (thumbnails.filter((t) => t.classIndex === label).length < THUMBNAILS_PER_CLASS) thumbnails.push({ path, classIndex: label, pixels: scan.pixels });
        const stretched = Math.abs(scan.sourceWidth * image.height - scan.sourceHeight * image.width) > 0 ? 1 : 0;
        sizes = sizes
          ? {
              minWidth: Math.min(sizes.minWidth, scan.sourceWidth),
              maxWidth: Math.max(sizes.maxWidth, scan.sourceWidth),
              minHeight: Math.min(sizes.minHeight, scan.sourceHeight),
              maxHeight: Math.max(sizes.maxHeight, scan.sourceHeight),
              stretched: sizes.stretched + stretched,
            }
          : { minWidth: scan.sourceWidth, maxWidth: scan.sourceWidth, minHeight: scan.sourceHeight, maxHeight: scan.sourceHeight, stretched };
      } catch (e) {
        failedCount++;
        if (failed.length < LISTED_FAILURES) failed.push({ path, reason: describeError(e) });
      }
      if (builder.full) await hooks.onBatch(builder.take());
      report(k + 1);
    }
    if (builder.size > 0) await hooks.onBatch(builder.take());
  } finally {
    // Images decoded ahead of a cancellation or failure are freed, not left to the collector.
    for (const p of pending) void p.then((o) => ('image' in o ? decoder.discard(o.image) : undefined));
    decoder.done?.();
  }
  const ms = performance.now() - started;

  if (failedCount > 0) issues.push({ severity: 'warning', message: `${failedCount} image(s) could not be decoded and will be dropped (listed below).` });
  if (sizes?.stretched)
    issues.push({ severity: 'info', message: `${sizes.stretched} image(s) are not square; they are stretched to ${image.width}×${image.height}, so nothing is cut off.` });
  const present = labelCounts.filter((c) => c > 0).length;
  if (accepted > 0 && present < classes.length)
    issues.push({ severity: 'warning', message: `Only ${present} of the ${classes.length} classes have images; a model learns little from one class.` });
  const blocking = issues.some((i) => i.severity === 'error');
  return {
    size: { width: image.width, height: image.height, channels: image.channels },
    selection: {
      files: args.files.length,
      images: images.length,
      ignored: ignored.length,
      ignoredExamples: ignored.slice(0, LISTED_EXAMPLES).map((f) => f.path),
      labelFiles: labelFiles.map((f) => f.path),
    },
    labelSource,
    labelSources,
    labels,
    unlabelled: { count: unlabelledPaths.length, examples: unlabelledPaths.slice(0, LISTED_EXAMPLES) },
    skipped,
    csv,
    accepted,
    failed,
    failedCount,
    labelCounts,
    thumbnails,
    sourceSizes: sizes,
    decode: { images: total, ms },
    issues,
    fingerprint: accepted > 0 ? await fingerprint.digest() : null,
    canImport: accepted > 0 && !blocking,
  };
}
