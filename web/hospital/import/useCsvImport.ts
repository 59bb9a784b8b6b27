import type { CsvImportOptions, ImportProgress } from '../../../shared/data/csv';
import type { CsvImportResult } from '../../training/datasetProtocol';
import type { HospitalSession } from '../session';
import { useStagedImport, type StagedImportKind, type StagedImportState } from './useStagedImport';

export type ImportState = StagedImportState<File, CsvImportOptions, ImportProgress, CsvImportResult>;

const csvImport: StagedImportKind<File, CsvImportOptions, ImportProgress, CsvImportResult> = {
  analyse: (worker, { source, ...args }, onProgress) => worker.analyseCsv({ ...args, file: source, fileName: source.name }, onProgress),
  doneMessage(file, result) {
    const { rows } = result.analysis;
    return `Imported ${rows.accepted.toLocaleString()} records from ${file.name}${rows.rejected ? ` (${rows.rejected.toLocaleString()} rows dropped)` : ''}.`;
  },
};

/** A CSV import (see useStagedImport); changing the mapping reads the file again. */
export function useCsvImport(session: HospitalSession, onImported: () => void) {
  return useStagedImport(session, csvImport, onImported);
}
