import { useCallback, useId, useRef, useState, type DragEvent } from 'react';
import type { CsvImportOptions } from '../../../shared/data/csv';
import { getTemplate, templateFamily, type TaskTemplate } from '../../../shared/tasks';
import sampleCsvUrl from '../../../docs/samples/heart-sample.csv?url';
import { bytes } from '../datasets/storage';
import type { HospitalState } from '../hospitalState';
import type { HospitalSession } from '../session';
import { count, FeatureStatsTable, ImportSummary, IssueList, LabelBalance, PreviewTable, RowErrors } from './ImportReport';
import { ImageImportPanel } from './ImageImportPanel';
import { ImportProgress, ImportStart, ReviewActions } from './ImportFrame';
import { MappingEditor } from './MappingEditor';
import { MissingAndFlags, ProposalList } from './Proposals';
import { useCsvImport, type ImportState } from './useCsvImport';
import './import.css';

function DropZone({ disabled, onFile }: { disabled: boolean; onFile: (file: File) => void }) {
  const id = useId();
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const file = e.dataTransfer.files[0];
    if (file && !disabled) onFile(file);
  };
  return (
    <div
      className={`dropzone${over ? ' over' : ''}${disabled ? ' disabled' : ''}`}
      data-testid="csv-dropzone"
      onDragOver={(e) => {
        e.preventDefault();
        if (!disabled) setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <svg aria-hidden="true" viewBox="0 0 24 24" width="28" height="28">
        <path d="M12 16V4m0 0-4 4m4-4 4 4M5 14v4a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2v-4" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
      </svg>
      <p>
        <strong>Drop a CSV file here</strong> or{' '}
        <label htmlFor={id} className="link-button">
          choose one
        </label>
      </p>
      <p className="muted small">Comma, semicolon, tab or pipe separated; with or without a header row. Nothing is stored until you confirm.</p>
      <input
        ref={input}
        id={id}
        className="visually-hidden"
        type="file"
        accept=".csv,.tsv,.txt,text/csv,text/plain,text/tab-separated-values"
        disabled={disabled}
        data-testid="csv-file-input"
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (file) onFile(file);
        }}
      />
    </div>
  );
}

function Reading({ state, onCancel }: { state: Extract<ImportState, { step: 'reading' }>; onCancel: () => void }) {
  const p = state.progress;
  const fraction = p && p.totalBytes > 0 ? p.bytesRead / p.totalBytes : 0;
  return (
    <ImportProgress
      label="Reading the file"
      fraction={fraction}
      status={p ? `${Math.round(fraction * 100)} % · ${count(p.rows)} rows checked, ${count(p.rejected)} with problems` : 'Starting…'}
      onCancel={onCancel}
    >
      Reading <strong>{state.source.name}</strong> ({bytes(state.source.size)}) in this browser…
    </ImportProgress>
  );
}

function Review({
  template,
  state,
  onApply,
  onCommit,
  onCancel,
}: {
  template: TaskTemplate;
  state: Extract<ImportState, { step: 'review' | 'committing' }>;
  onApply: (options: CsvImportOptions) => void;
  onCommit: () => void;
  onCancel: () => void;
}) {
  const { analysis, importId } = state.result;
  const [dirty, setDirty] = useState(false);
  const committing = state.step === 'committing';
  const { rows } = analysis;
  const delimiterName = { ',': 'comma', ';': 'semicolon', '\t': 'tab', '|': 'pipe' }[analysis.settings.delimiter];
  // A file that could not be read as a table at all (empty, binary) has nothing but its problem to show.
  const readable = analysis.columns.length > 0;
  return (
    <div className="review" data-testid="import-review">
      <p className="file-line">
        <strong data-testid="import-file-name">{state.source.name}</strong>
        <span className="muted small">
          {bytes(state.source.size)}
          {readable &&
            ` · ${delimiterName}-separated · ${analysis.headerLine !== null ? `header on line ${analysis.headerLine}` : 'no header row'}${analysis.settings.decimal === ',' ? ' · decimal commas' : ''}`}
        </span>
      </p>
      {readable && <ImportSummary analysis={analysis} />}
      <IssueList issues={analysis.issues} />
      <ProposalList
        analysis={analysis}
        busy={committing}
        onApply={(options) => {
          setDirty(false);
          onApply(options);
        }}
      />

      {analysis.columns.length > 0 && (
        <details className="section" open={!importId || dirty}>
          <summary>
            <h3>Column mapping and label rule</h3>
            {analysis.labelRule && (
              <span className="muted small">
                label = <code>{analysis.labelRule}</code>
              </span>
            )}
          </summary>
          <MappingEditor key={JSON.stringify([analysis.settings, analysis.mapping])} template={template} analysis={analysis} busy={committing} onApply={onApply} onDirty={setDirty} />
        </details>
      )}

      {rows.accepted > 0 && (
        <>
          <div className="review-grid">
            <section>
              <h3>Label balance</h3>
              <LabelBalance template={template} counts={analysis.stats.labelCounts} />
            </section>
            <section>
              <h3>Rows with problems</h3>
              <RowErrors analysis={analysis} />
            </section>
          </div>
          {(analysis.flags.rows > 0 || analysis.missingRead.length > 0) && (
            <section className="section">
              <h3>Flagged values and missing cells</h3>
              <MissingAndFlags analysis={analysis} />
            </section>
          )}
          <section className="section">
            <h3>Per-feature statistics</h3>
            <FeatureStatsTable stats={analysis.stats.features} />
          </section>
          <section className="section">
            <h3>Preview</h3>
            <PreviewTable template={template} analysis={analysis} />
          </section>
        </>
      )}
      {rows.accepted === 0 && rows.rejected > 0 && (
        <section className="section">
          <h3>Rows with problems</h3>
          <RowErrors analysis={analysis} />
        </section>
      )}

      <ReviewActions
        staged={Boolean(importId)}
        usable={rows.accepted > 0}
        dirty={dirty}
        committing={committing}
        commitLabel={`Import ${count(rows.accepted)} rows${rows.rejected ? ` (drop ${count(rows.rejected)})` : ''}`}
        retryLabel="Choose another file"
        recheckHint="Check the file again with the changed settings before importing."
        unusableHint="Nothing can be imported from this file as it is read now."
        onCommit={onCommit}
        onCancel={onCancel}
      />
    </div>
  );
}

/** "Import CSV": choose or drop a file, review what the worker found, then import or cancel. */
export function ImportPanel({ session, state, onImported }: { session: HospitalSession; state: HospitalState; onImported: () => void }) {
  const importer = useCsvImport(session, onImported);
  const s = importer.state;
  const template = state.study ? getTemplate(state.study.templateId) : undefined;
  const choose = useCallback((file: File) => void importer.analyse(file), [importer]);

  if (!template) return null;
  if (template.image) return <ImageImportPanel session={session} state={state} template={template} onImported={onImported} />;
  if (template.features.length === 0) return null;
  return (
    <section className="panel import-panel" aria-labelledby="import-title">
      <div className="panel-head">
        <h2 id="import-title">Import hospital data</h2>
        {templateFamily(template.id) === 'heart-risk' ? (
          <a className="small" href={sampleCsvUrl} download="heart-sample.csv">
            Download a sample CSV
          </a>
        ) : (
          // Other studies have no sample file: their column layout, a header row to fill in, instead.
          <a className="small" href={`data:text/csv;charset=utf-8,${encodeURIComponent([...template.features.map((f) => f.name), template.label.name].join(',') + '\n')}`} download={`${templateFamily(template.id)}-columns.csv`}>
            Download the column layout
          </a>
        )}
      </div>
      {(s.step === 'idle' || s.step === 'failed') && (
        <ImportStart
          done={s.step === 'idle' ? s.done : undefined}
          error={s.step === 'failed' ? s.message : undefined}
          locked={state.joined}
          hint={`Columns are matched to the ${template.features.length} features of “${template.name}” by name (a file in the template's column order is proposed for you to accept); the file is read and checked in this browser and never uploaded.`}
        >
          <DropZone disabled={state.joined} onFile={choose} />
        </ImportStart>
      )}
      {s.step === 'reading' && <Reading state={s} onCancel={() => void importer.cancel()} />}
      {(s.step === 'review' || s.step === 'committing') && (
        <Review
          template={template}
          state={s}
          onApply={(options) => void importer.analyse(s.source, options)}
          onCommit={() => void importer.commit()}
          onCancel={() => void importer.cancel()}
        />
      )}
    </section>
  );
}
