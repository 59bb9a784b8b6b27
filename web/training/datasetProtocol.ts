/**
 * The worker's dataset methods: CSV and image imports in two steps (analyse and stage, then commit or
 * discard) and the site's dataset list. Types only, like protocol.ts.
 */
import type { CsvAnalysis, CsvImportOptions, ImportProgress } from '../../shared/data/csv';
import type { LabelMapping, LabelValue } from '../../shared/data/images/labels';
import type { DatasetInfo, SplitConfig } from './protocol';

export interface CsvImportArgs {
  siteId: string;
  templateId: string;
  /** The study the page imports for; kept with the dataset. */
  studyId: string | null;
  /** Chosen by the page, so it can cancel the import while it runs. */
  importId: string;
  /** Read in slices by the worker; never copied whole into memory. */
  file: Blob;
  fileName: string;
  /** Delimiter, header, decimal mark and mapping; detected and matched by name when left out. */
  options?: CsvImportOptions;
}

export interface CsvImportResult {
  /** The staged import to commit or discard; null when nothing could be staged (see the analysis). */
  importId: string | null;
  analysis: CsvAnalysis;
}

/** Where a label comes from: the folder an image sits in, or a CSV of file name and label. */
export type ImageLabelSource = 'folders' | 'csv';

export interface ImageImportOptions {
  /** Default: the CSV when the selection holds one, else the folders. */
  labelSource?: ImageLabelSource;
  /** Raw label value (folder name, CSV cell) → class index, or null to leave its images out; unnamed values are guessed. */
  mapping?: LabelMapping;
}

export interface ImageImportArgs {
  siteId: string;
  templateId: string;
  studyId: string | null;
  /** Chosen by the page, so it can cancel the import while it runs. */
  importId: string;
  /**
   * The chosen files with their paths inside the chosen folder (a folder's files carry it in
   * `webkitRelativePath`, which does not survive the trip to the worker). A CSV among them names labels.
   */
  files: { path: string; file: Blob }[];
  /** What the person chose, for the dataset list: the folder's name, or "12 files". */
  name: string;
  options?: ImageImportOptions;
}

export interface ImageImportProgress {
  /** Images decoded (or failed) so far, of `total` to decode. */
  done: number;
  total: number;
  failed: number;
}

export interface ImageFailure {
  path: string;
  reason: string;
}

export interface ImageIssue {
  severity: 'error' | 'warning' | 'info';
  message: string;
}

export interface ImageThumbnail {
  path: string;
  classIndex: number;
  /** The stored pixels, `height × width`, 0–255: what the model sees. */
  pixels: Uint8Array;
}

export interface ImageAnalysis {
  /** The size every image is stored at: the template's input. */
  size: { width: number; height: number; channels: 1 | 3 };
  /** The chosen files: PNG and JPEG images, label CSVs, and the rest (ignored). */
  selection: { files: number; images: number; ignored: number; ignoredExamples: string[]; labelFiles: string[] };
  labelSource: ImageLabelSource;
  /** The label sources this selection offers. */
  labelSources: ImageLabelSource[];
  /** Each raw label value (folder name or CSV cell), its images and its class. */
  labels: LabelValue[];
  /** Images without a label value: not in a folder, or not named in the CSV. */
  unlabelled: { count: number; examples: string[] };
  /** Images whose label value maps to no class. */
  skipped: number;
  /** The label CSV as read, with its rows that name no chosen image. */
  csv: {
    name: string;
    rows: number;
    header: boolean;
    fileColumn: string;
    labelColumn: string;
    unmatched: { line: number; file: string }[];
    problems: { line: number; message: string }[];
  } | null;
  /** Images decoded and staged. */
  accepted: number;
  /** Images that could not be decoded, by path, with the reason (the first 500); dropped if the import goes ahead. */
  failed: ImageFailure[];
  failedCount: number;
  labelCounts: number[];
  thumbnails: ImageThumbnail[];
  /** Source sizes of the decoded images, and how many were not the template's aspect ratio (stretched). */
  sourceSizes: { minWidth: number; maxWidth: number; minHeight: number; maxHeight: number; stretched: number } | null;
  /** Decoding time in the worker, for the throughput figure. */
  decode: { images: number; ms: number };
  issues: ImageIssue[];
  fingerprint: string | null;
  canImport: boolean;
}

export interface ImageImportResult {
  importId: string | null;
  analysis: ImageAnalysis;
}

export interface DatasetSummary {
  id: string;
  name: string;
  source: 'demo' | 'csv' | 'images';
  studyId: string | null;
  records: number;
  labelCounts: number[];
  /** Sizes of the study's seeded stratified split of these records. */
  train: number;
  validation: number;
  fingerprint: string;
  createdAt: string;
  /** Bytes of stored records, roughly. */
  bytes: number;
  /** The dataset training and evaluation use. */
  active: boolean;
  /** Missing values per feature, among the stored records. */
  missing: { feature: string; label: string; count: number }[];
}

export interface DatasetWorkerApi {
  /** Reads, checks and stages a CSV file; stores nothing the site trains on until `commitImport`. */
  analyseCsv(args: CsvImportArgs, onProgress?: (p: ImportProgress) => void): Promise<CsvImportResult>;
  /** Decodes, labels and stages images (PNG, JPEG) off the page's thread; stores nothing the site trains on until `commitImport`. */
  analyseImages(args: ImageImportArgs, onProgress?: (p: ImageImportProgress) => void): Promise<ImageImportResult>;
  /** Stops a running `analyseCsv` or `analyseImages`; its staged records are removed. */
  cancelImport(importId: string): void;
  /** Makes a staged import the site's dataset for its template, atomically. */
  commitImport(siteId: string, importId: string, split?: SplitConfig): Promise<DatasetInfo>;
  discardImport(siteId: string, importId: string): Promise<void>;
  listDatasets(siteId: string, templateId: string, split?: SplitConfig): Promise<DatasetSummary[]>;
  activateDataset(siteId: string, templateId: string, datasetId: string, split?: SplitConfig): Promise<DatasetInfo>;
  deleteDataset(siteId: string, templateId: string, datasetId: string, split?: SplitConfig): Promise<DatasetInfo>;
}
