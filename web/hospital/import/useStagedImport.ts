import { useCallback, useEffect, useRef, useState } from 'react';
import type { DatasetInfo } from '../../training/protocol';
import { progressCallback } from '../../training/client';
import { requestPersistence } from '../datasets/storage';
import type { HospitalSession } from '../session';

/** Where a staged import stands: `source` is what the person chose (a CSV file, a set of images). */
export type StagedImportState<S, O, P, R> =
  | { step: 'idle'; done?: string }
  | { step: 'reading'; source: S; progress: P | null }
  | { step: 'review'; source: S; options: O | undefined; result: R }
  | { step: 'committing'; source: S; options: O | undefined; result: R }
  | { step: 'failed'; source: S | null; message: string };

export interface StagedImportKind<S, O, P, R extends { importId: string | null }> {
  /** Has the worker read, check and stage `source`; nothing the site trains on changes. */
  analyse(
    worker: HospitalSession['worker'],
    args: { siteId: string; templateId: string; studyId: string; importId: string; source: S; options: O | undefined },
    onProgress: (p: P) => void,
  ): Promise<R>;
  /** The page's one-line summary once the import is committed. */
  doneMessage(source: S, result: R): string;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const newId = () => (typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `import-${Date.now()}-${Math.random().toString(16).slice(2)}`);

/**
 * The two steps of an import, driven from the page: the worker reads, checks and stages what was
 * chosen (the site's dataset stays as it is), the person reviews, then imports or cancels. Analysing
 * again (a changed mapping), a cancel or leaving the page discards what was staged.
 */
export function useStagedImport<S, O, P, R extends { importId: string | null }>(
  session: HospitalSession,
  kind: StagedImportKind<S, O, P, R>,
  onImported: () => void,
) {
  const [state, setState] = useState<StagedImportState<S, O, P, R>>({ step: 'idle' });
  // The staged or running import, so a new choice, a cancel or leaving the page cleans it up.
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
    async (source: S, options?: O) => {
      const { site, study } = session.getSnapshot();
      if (!site || !study) return;
      await discard();
      const id = newId();
      current.current = { id, siteId: site.id };
      // Progress comes over its own message port: a last report may arrive after the result, and
      // must not take the page back from the review to "reading".
      let settled = false;
      setState({ step: 'reading', source, progress: null });
      try {
        const result = await kind.analyse(
          worker,
          { siteId: site.id, templateId: study.templateId, studyId: study.id, importId: id, source, options },
          progressCallback((progress: P) => {
            if (!settled && current.current?.id === id) setState({ step: 'reading', source, progress });
          }),
        );
        settled = true;
        if (current.current?.id !== id) return;
        if (!result.importId) current.current = null;
        setState({ step: 'review', source, options, result });
      } catch (e) {
        settled = true;
        if (current.current?.id !== id) return;
        current.current = null;
        setState({ step: 'failed', source, message: describe(e) });
      }
    },
    [discard, kind, session, worker],
  );

  const commit = useCallback(async () => {
    if (state.step !== 'review' || !state.result.importId) return;
    const c = current.current;
    if (!c || c.id !== state.result.importId) return;
    setState({ ...state, step: 'committing' });
    try {
      const info: DatasetInfo = await worker.commitImport(c.siteId, c.id, session.split);
      current.current = null;
      const message = kind.doneMessage(state.source, state.result);
      session.datasetChanged(info, message);
      setState({ step: 'idle', done: message });
      // Imported data is worth keeping: ask the browser not to evict it.
      void requestPersistence().finally(onImported);
    } catch (e) {
      current.current = null;
      setState({ step: 'failed', source: state.source, message: describe(e) });
    }
  }, [kind, onImported, session, state, worker]);

  const cancel = useCallback(async () => {
    await discard();
    setState({ step: 'idle' });
  }, [discard]);

  return { state, analyse, commit, cancel };
}
