import { useCallback, useEffect, useRef, useState } from 'react';
import type { CsvImportOptions, ImportProgress } from '../../../shared/data/csv';
import { progressCallback } from '../../training/client';
import type { CsvImportResult } from '../../training/datasetProtocol';
import type { HospitalSession } from '../session';
import { requestPersistence } from '../datasets/storage';

export type ImportState =
  | { step: 'idle'; done?: string }
  | { step: 'reading'; file: File; progress: ImportProgress | null }
  | { step: 'review'; file: File; result: CsvImportResult }
  | { step: 'committing'; file: File; result: CsvImportResult }
  | { step: 'failed'; file: File | null; message: string };

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const newId = () => (typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `import-${Date.now()}-${Math.random().toString(16).slice(2)}`);

/**
 * The two steps of a CSV import, driven from the page: the worker reads, checks and stages the file
 * (nothing the site trains on changes), the person reviews and then imports or cancels. Changing the
 * mapping reads the file again.
 */
export function useCsvImport(session: HospitalSession, onImported: () => void) {
  const [state, setState] = useState<ImportState>({ step: 'idle' });
  // The staged or running import, so a new file, a cancel or leaving the page cleans it up.
  const current = useRef<{ id: string; siteId: string } | null>(null);
  const worker = session.worker;

  const discard = useCallback(async () => {
    const c = current.current;
    current.current = null;
    if (!c) return;
    worker.cancelImport(c.id);
    await worker.discardImport(c.siteId, c.id).catch(() => undefined);
  }, [worker]);

  useEffect(() => () => void discard(), [discard]);

  const analyse = useCallback(
    async (file: File, options?: CsvImportOptions) => {
      const { site, study } = session.getSnapshot();
      if (!site || !study) return;
      await discard();
      const id = newId();
      current.current = { id, siteId: site.id };
      // Progress comes over its own message port: a last report may arrive after the result, and
      // must not take the page back from the review to "reading".
      let settled = false;
      setState({ step: 'reading', file, progress: null });
      try {
        const result = await worker.analyseCsv(
          { siteId: site.id, templateId: study.templateId, studyId: study.id, importId: id, file, fileName: file.name, options },
          progressCallback((progress: ImportProgress) => {
            if (!settled && current.current?.id === id) setState({ step: 'reading', file, progress });
          }),
        );
        settled = true;
        if (current.current?.id !== id) return;
        if (!result.importId) current.current = null;
        setState({ step: 'review', file, result });
      } catch (e) {
        settled = true;
        if (current.current?.id !== id) return;
        current.current = null;
        setState({ step: 'failed', file, message: describe(e) });
      }
    },
    [discard, session, worker],
  );

  const commit = useCallback(async () => {
    if (state.step !== 'review' || !state.result.importId) return;
    const c = current.current;
    if (!c || c.id !== state.result.importId) return;
    setState({ step: 'committing', file: state.file, result: state.result });
    try {
      const info = await worker.commitImport(c.siteId, c.id, session.split);
      current.current = null;
      const { rows } = state.result.analysis;
      const message = `Imported ${rows.accepted.toLocaleString()} records from ${state.file.name}${rows.rejected ? ` (${rows.rejected.toLocaleString()} rows dropped)` : ''}.`;
      session.datasetChanged(info, message);
      setState({ step: 'idle', done: message });
      // Imported data is worth keeping: ask the browser not to evict it.
      void requestPersistence().finally(onImported);
    } catch (e) {
      current.current = null;
      setState({ step: 'failed', file: state.file, message: describe(e) });
    }
  }, [onImported, session, state, worker]);

  const cancel = useCallback(async () => {
    await discard();
    setState({ step: 'idle' });
  }, [discard]);

  return { state, analyse, commit, cancel };
}
