import { useCallback, useId, useMemo, useState, type DragEvent } from 'react';
import { labelClasses } from '../../../shared/data/stats';
import type { TaskTemplate } from '../../../shared/tasks';
import type { ImageImportOptions } from '../../training/datasetProtocol';
import type { HospitalState } from '../hospitalState';
import type { HospitalSession } from '../session';
import { DecodeFigure, FailureList, ImageIssues, ImageSummary, LabelMappingEditor, Thumbnails } from './ImageReport';
import { ImportProgress, ImportStart, ReviewActions } from './ImportFrame';
import { count, LabelBalance } from './ImportReport';
import { fromDataTransfer, fromFileList, type ImageSelection } from './imageSelection';
import { useImageImport, type ImageImportState } from './useImageImport';
import './import.css';

const IMAGE_ACCEPT = '.png,.jpg,.jpeg,image/png,image/jpeg,.csv,text/csv';

function ImageDropZone({ template, disabled, onSelect }: { template: TaskTemplate; disabled: boolean; onSelect: (s: ImageSelection) => void }) {
  const folderId = useId();
  const filesId = useId();
  const [over, setOver] = useState(false);
  const classes = labelClasses(template);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    if (disabled) return;
    void fromDataTransfer(e.dataTransfer).then((s) => s.files.length > 0 && onSelect(s));
  };
  const pick = (list: FileList | null, input: HTMLInputElement) => {
    const selection = list && list.length > 0 ? fromFileList(list) : null;
    input.value = '';
    if (selection) onSelect(selection);
  };
  return (
    <div
      className={`dropzone${over ? ' over' : ''}${disabled ? ' disabled' : ''}`}
      data-testid="image-dropzone"
      onDragOver={(e) => {
        e.preventDefault();
        if (!disabled) setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <svg aria-hidden="true" viewBox="0 0 24 24" width="28" height="28">
        <path d="M4 6a2 2 0 0 1 2-2h12a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2z M4 16l4.5-4.5 3 3L15 11l5 5 M9 9.5a1 1 0 1 0 0-.01" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
      </svg>
      <p>
        <strong>Drop a folder of scans here</strong> or choose{' '}
        <label htmlFor={folderId} className="link-button">
          a folder
        </label>{' '}
        or{' '}
        <label htmlFor={filesId} className="link-button">
          image files
        </label>
      </p>
      <p className="muted small">
        PNG or JPEG. Labels from sub-folder names (e.g. <code>{classes.length === 2 ? 'positive/' : '0/'}</code>, <code>{classes.length === 2 ? 'negative/' : '1/'}</code> or the class names) or from a CSV
        of file name and label chosen with the images. Nothing is stored until you confirm.
      </p>
      <input
        id={folderId}
        className="visually-hidden"
        type="file"
        // React does not know the attribute; the browser does.
        {...({ webkitdirectory: '', directory: '' } as Record<string, string>)}
        multiple
        disabled={disabled}
        data-testid="image-folder-input"
        onChange={(e) => pick(e.target.files, e.target)}
      />
      <input
        id={filesId}
        className="visually-hidden"
        type="file"
        multiple
        accept={IMAGE_ACCEPT}
        disabled={disabled}
        data-testid="image-file-input"
        onChange={(e) => pick(e.target.files, e.target)}
      />
    </div>
  );
}

function Reading({ state, onCancel }: { state: Extract<ImageImportState, { step: 'reading' }>; onCancel: () => void }) {
  const p = state.progress;
  return (
    <ImportProgress
      label="Decoding the images"
      fraction={p && p.total > 0 ? p.done / p.total : 0}
      status={p ? `${count(p.done)} of ${count(p.total)} images · ${count(p.failed)} could not be decoded` : 'Sorting the files and labels…'}
      onCancel={onCancel}
    >
      Decoding <strong>{state.source.name}</strong> ({count(state.source.files.length)} files) in this browser…
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
  state: Extract<ImageImportState, { step: 'review' | 'committing' }>;
  onApply: (options: ImageImportOptions) => void;
  onCommit: () => void;
  onCancel: () => void;
}) {
  const { analysis, importId } = state.result;
  const [dirty, setDirty] = useState(false);
  const committing = state.step === 'committing';
  const files = useMemo(() => new Map(state.source.files.map((f) => [f.path, f.file])), [state.source]);
  const mappingOpen = !importId || dirty || analysis.labels.some((l) => l.classIndex === null);
  return (
    <div className="review" data-testid="import-review">
      <p className="file-line">
        <strong data-testid="import-file-name">{state.source.name}</strong>
        <span className="muted small">
          {count(analysis.selection.files)} files · stored as {analysis.size.width}×{analysis.size.height} gray · labels from {analysis.labelSource === 'csv' ? 'a CSV file' : 'folder names'}
        </span>
        <DecodeFigure analysis={analysis} />
      </p>
      <ImageSummary analysis={analysis} />
      <ImageIssues issues={analysis.issues} />

      <details className="section" open={mappingOpen} data-testid="labels-section">
        <summary>
          <h3>Labels</h3>
          <span className="muted small">
            {analysis.labels.map((l) => `${l.value} → ${l.classIndex === null ? 'left out' : labelClasses(template)[l.classIndex]}`).join(' · ')}
          </span>
        </summary>
        <LabelMappingEditor
          key={JSON.stringify([analysis.labelSource, analysis.labels])}
          template={template}
          analysis={analysis}
          options={state.options}
          busy={committing}
          onApply={onApply}
          onDirty={setDirty}
        />
      </details>

      {(analysis.accepted > 0 || analysis.failedCount > 0) && (
        <div className="review-grid">
          <section>
            <h3>Images per class</h3>
            <LabelBalance template={template} counts={analysis.labelCounts} />
          </section>
          <section>
            <h3>Images that cannot be decoded</h3>
            <FailureList analysis={analysis} />
          </section>
        </div>
      )}
      {analysis.thumbnails.length > 0 && (
        <section className="section">
          <h3>Preview</h3>
          <Thumbnails template={template} analysis={analysis} files={files} />
        </section>
      )}

      <ReviewActions
        staged={Boolean(importId)}
        usable={analysis.accepted > 0}
        dirty={dirty}
        committing={committing}
        commitLabel={`Import ${count(analysis.accepted)} images${analysis.failedCount ? ` (drop ${count(analysis.failedCount)})` : ''}`}
        retryLabel="Choose other images"
        recheckHint="Read the images again with the changed labels before importing."
        unusableHint="Nothing can be imported from these files as they are labelled now."
        onCommit={onCommit}
        onCancel={onCancel}
      />
    </div>
  );
}

/** "Import scans" for an image study: choose or drop a folder or files, review what the worker decoded, then import or cancel. */
export function ImageImportPanel({ session, state, template, onImported }: { session: HospitalSession; state: HospitalState; template: TaskTemplate; onImported: () => void }) {
  const importer = useImageImport(session, onImported);
  const s = importer.state;
  const choose = useCallback((selection: ImageSelection) => void importer.analyse(selection), [importer]);
  return (
    <section className="panel import-panel" aria-labelledby="import-title">
      <div className="panel-head">
        <h2 id="import-title">Import scans</h2>
      </div>
      {(s.step === 'idle' || s.step === 'failed') && (
        <ImportStart
          done={s.step === 'idle' ? s.done : undefined}
          error={s.step === 'failed' ? s.message : undefined}
          locked={state.joined}
          hint={`Images are decoded in this browser's background worker, turned gray and resized to ${template.image!.width}×${template.image!.height} for “${template.name}”; they are never uploaded.`}
        >
          <ImageDropZone template={template} disabled={state.joined} onSelect={choose} />
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

