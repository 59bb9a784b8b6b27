/**
 * The worker's dataset methods: CSV import in two steps (analyse and stage, then commit or discard)
 * and the site's dataset list. Types only, like protocol.ts.
 */
import type { CsvAnalysis, CsvImportOptions, ImportProgress } from '../../shared/data/csv';
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

export interface DatasetSummary {
  id: string;
  name: string;
  source: 'demo' | 'csv';
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
  /** Stops a running `analyseCsv`; its staged records are removed. */
  cancelImport(importId: string): void;
  /** Makes a staged import the site's dataset for its template, atomically. */
  commitImport(siteId: string, importId: string, split?: SplitConfig): Promise<DatasetInfo>;
  discardImport(siteId: string, importId: string): Promise<void>;
  listDatasets(siteId: string, templateId: string, split?: SplitConfig): Promise<DatasetSummary[]>;
  activateDataset(siteId: string, templateId: string, datasetId: string, split?: SplitConfig): Promise<DatasetInfo>;
  deleteDataset(siteId: string, templateId: string, datasetId: string, split?: SplitConfig): Promise<DatasetInfo>;
}
