import type { ImageImportOptions, ImageImportProgress, ImageImportResult } from '../../training/datasetProtocol';
import type { HospitalSession } from '../session';
import type { ImageSelection } from './imageSelection';
import { useStagedImport, type StagedImportKind, type StagedImportState } from './useStagedImport';

export type ImageImportState = StagedImportState<ImageSelection, ImageImportOptions, ImageImportProgress, ImageImportResult>;

const imageImport: StagedImportKind<ImageSelection, ImageImportOptions, ImageImportProgress, ImageImportResult> = {
  analyse: (worker, { source, ...args }, onProgress) => worker.analyseImages({ ...args, files: source.files, name: source.name }, onProgress),
  doneMessage(selection, result) {
    const { accepted, failedCount, skipped, unlabelled } = result.analysis;
    const left = failedCount + skipped + unlabelled.count;
    return `Imported ${accepted.toLocaleString('en')} images from ${selection.name}${left ? ` (${left.toLocaleString('en')} left out)` : ''}.`;
  },
};

/** An image import (see useStagedImport): decoded, labelled and staged in the worker; a changed label mapping decodes again. */
export function useImageImport(session: HospitalSession, onImported: () => void) {
  return useStagedImport(session, imageImport, onImported);
}
