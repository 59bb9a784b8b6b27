import { ImportPanel } from '../import/ImportPanel';
import type { HospitalState } from '../hospitalState';
import type { HospitalSession } from '../session';
import { DatasetsPanel, useDatasets } from './DatasetsPanel';

/** The site's own data: importing a CSV file, and the datasets this browser holds. */
export function LocalData({ session, state }: { session: HospitalSession; state: HospitalState }) {
  const list = useDatasets(session, state);
  if (!state.site || !state.study) return null;
  return (
    <>
      <ImportPanel session={session} state={state} onImported={() => void list.refresh()} />
      <DatasetsPanel session={session} state={state} list={list} />
    </>
  );
}
