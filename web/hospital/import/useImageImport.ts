import { useCallback, useEffect, useRef, useState } from 'react';
import { progressCallback } from '../../training/client';
import type { ImageImportOptions, ImageImportProgress, ImageImportResult } from '../../training/datasetProtocol';
import { requestPersistence } from '../datasets/storage';
import type { HospitalSession } from '../session';
import type { ImageSelection } from './imageSelection';

export type ImageImportState =
  | { step: 'idle'; done?: string }
  | { step: 'reading'; selection: ImageSelection; progress: ImageImportProgress | null }
  | { step: 'review'; selection: ImageSelection; options: ImageImportOptions | undefined; result: ImageImportResult }
  | { step: 'committing'; selection: ImageSelection; options: ImageImportOptions | undefined; result: ImageImportResult }
  | { step: 'failed'; selection: ImageSelection | null; message: string };

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const newId = () => (typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `import-${Date.now()}-${Math.random().toString(16).slice(2)}`);

/**
 * The two steps of an image import, as for a CSV (useCsvImport): the worker decodes, labels and
 * stages the images while the site's dataset stays as it is; the person reviews and imports or
 * cancels. Changing the label mapping reads the images again.
 */
export function useImageImport(session: HospitalSession, onImported: () => void) {
  const [state, setState] = useState<ImageImportState>({ step: 'idle' });
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
    async (selection: ImageSelection, options?: ImageImportOptions) => {
      const { site, study } = session.getSnapshot();
      if (!site || !study) return;
      await discard();
      const id = newId();
      current.current = { id, siteId: site.id };
      // Progress comes over its own message port: a last report may arrive after the result, and
      // must not take the page back from the review to "reading".
      let settled = false;
      setState({ step: 'reading', selection, progress: null });
      try {
        const result = await worker.analyseImages(
          { siteId: site.id, templateId: study.templateId, studyId: study.id, importId: id, files: selection.files, name: selection.name, options },
          progressCallback((progress: ImageImportProgress) => {
            if (!settled && current.current?.id === id) setState({ step: 'reading', selection, progress });
          }),
        );
        settled = true;
        if (current.current?.id !== id) return;
        if (!result.importId) current.current = null;
        setState({ step: 'review', selection, options, result });
      } catch (e) {
        settled = true;
        if (current.current?.id !== id) return;
        current.current = null;
        setState({ step: 'failed', selection, message: describe(e) });
      }
    },
    [discard, session, worker],
  );

  const commit = useCallback(async () => {
    if (state.step !== 'review' || !state.result.importId) return;
    const c = current.current;
    if (!c || c.id !== state.result.importId) return;
    setState({ ...state, step: 'committing' });
    try {
      const info = await worker.commitImport(c.siteId, c.id, session.split);
      current.current = null;
      const { accepted, failedCount, skipped, unlabelled } = state.result.analysis;
      const left = failedCount + skipped + unlabelled.count;
      const message = `Imported ${accepted.toLocaleString('en')} images from ${state.selection.name}${left ? ` (${left.toLocaleString('en')} left out)` : ''}.`;
      session.datasetChanged(info, message);
      setState({ step: 'idle', done: message });
      void requestPersistence().finally(onImported);
    } catch (e) {
      current.current = null;
      setState({ step: 'failed', selection: state.selection, message: describe(e) });
    }
  }, [onImported, session, state, worker]);

  const cancel = useCallback(async () => {
    await discard();
    setState({ step: 'idle' });
  }, [discard]);

  return { state, analyse, commit, cancel };
}
