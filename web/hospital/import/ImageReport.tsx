import { useEffect, useMemo, useRef, useState } from 'react';
import type { LabelMapping } from '../../../shared/data/images/labels';
import { labelClasses } from '../../../shared/data/stats';
import type { TaskTemplate } from '../../../shared/tasks';
import type { ImageAnalysis, ImageImportOptions, ImageLabelSource, ImageThumbnail } from '../../training/datasetProtocol';
import { count } from './ImportReport';
import { ScrollFrame } from '../../layout/ScrollFrame';

const LISTED_FAILURES = 100;

const TONE = { error: 'error', warning: 'warn', info: 'info' } as const;

export function ImageIssues({ issues }: { issues: ImageAnalysis['issues'] }) {
  if (issues.length === 0) return null;
  return (
    <ul className="issues" data-testid="import-issues">
      {issues.map((i, k) => (
        <li key={k} className={`issue tone-${TONE[i.severity]}`} data-severity={i.severity}>
          <span className="issue-tag">{i.severity === 'info' ? 'note' : i.severity}</span>
          <span>{i.message}</span>
        </li>
      ))}
    </ul>
  );
}

export function ImageSummary({ analysis }: { analysis: ImageAnalysis }) {
  const left = analysis.skipped + analysis.unlabelled.count;
  return (
    <dl className="stats compact import-counts">
      <div>
        <dt>Images chosen</dt>
        <dd data-testid="image-count">{count(analysis.selection.images)}</dd>
      </div>
      <div className="ok-border">
        <dt>Can be imported</dt>
        <dd data-testid="image-accepted">{count(analysis.accepted)}</dd>
      </div>
      <div className={analysis.failedCount ? 'bad-border' : ''}>
        <dt>Cannot be decoded</dt>
        <dd data-testid="image-failed">{count(analysis.failedCount)}</dd>
      </div>
      <div>
        <dt>Without a class</dt>
        <dd data-testid="image-unlabelled">{count(left)}</dd>
      </div>
    </dl>
  );
}

/** 8-bit gray pixels drawn at their own size; CSS scales them up without smoothing. */
function ScanCanvas({ pixels, width, height, label }: { pixels: Uint8Array; width: number; height: number; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const image = ctx.createImageData(width, height);
    for (let i = 0; i < pixels.length; i++) {
      image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = pixels[i];
      image.data[4 * i + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
  }, [pixels, width, height]);
  return <canvas ref={ref} width={width} height={height} className="scan-thumb" role="img" aria-label={label} />;
}

/** The chosen file as the browser shows it, beside what the model will see. */
function Original({ file, label }: { file: File | undefined; label: string }) {
  const url = useMemo(() => (file ? URL.createObjectURL(file) : null), [file]);
  useEffect(() => () => void (url && URL.revokeObjectURL(url)), [url]);
  if (!url) return null;
  return <img src={url} alt={label} className="scan-original" loading="lazy" decoding="async" />;
}

export function Thumbnails({ template, analysis, files }: { template: TaskTemplate; analysis: ImageAnalysis; files: Map<string, File> }) {
  const classes = labelClasses(template);
  const { width, height } = analysis.size;
  const byClass = classes.map((_, k) => analysis.thumbnails.filter((t) => t.classIndex === k));
  return (
    <div className="thumb-classes" data-testid="image-thumbnails">
      {byClass.map((thumbs: ImageThumbnail[], k) =>
        thumbs.length === 0 ? null : (
          <figure key={k} className="thumb-class" data-class={k}>
            <figcaption className="small">
              <span className={`swatch seg-${k % 5}`} aria-hidden="true" /> {classes[k]} <span className="muted">· {count(analysis.labelCounts[k] ?? 0)} images</span>
            </figcaption>
            <ul className="thumb-row">
              {thumbs.map((t) => (
                <li key={t.path} className="thumb" title={t.path} data-testid="image-thumbnail">
                  <Original file={files.get(t.path)} label={`${t.path} as chosen`} />
                  <ScanCanvas pixels={t.pixels} width={width} height={height} label={`${t.path} as stored, ${width}×${height} gray`} />
                  <span className="thumb-name small muted">{t.path.slice(t.path.lastIndexOf('/') + 1)}</span>
                </li>
              ))}
            </ul>
          </figure>
        ),
      )}
      <p className="muted small thumb-note">Each pair: the file as chosen, and the {width}×{height} gray image the model trains on.</p>
    </div>
  );
}

/** Folder names (or CSV values) and the class each one's images get; applying reads the images again. */
export function LabelMappingEditor({
  template,
  analysis,
  options,
  busy,
  onApply,
  onDirty,
}: {
  template: TaskTemplate;
  analysis: ImageAnalysis;
  options: ImageImportOptions | undefined;
  busy: boolean;
  onApply: (options: ImageImportOptions) => void;
  onDirty: (dirty: boolean) => void;
}) {
  const classes = labelClasses(template);
  const initial = useMemo(() => Object.fromEntries(analysis.labels.map((l) => [l.value, l.classIndex])) as LabelMapping, [analysis.labels]);
  const [mapping, setMapping] = useState<LabelMapping>(initial);
  const [source, setSource] = useState<ImageLabelSource>(analysis.labelSource);
  const dirty = source !== analysis.labelSource || analysis.labels.some((l) => mapping[l.value] !== l.classIndex);
  useEffect(() => onDirty(dirty), [dirty, onDirty]);
  const what = analysis.labelSource === 'csv' ? 'Label in the CSV' : 'Folder';
  return (
    <div className="label-mapping">
      {analysis.labelSources.length > 1 && (
        <fieldset className="label-source">
          <legend className="small">Labels come from</legend>
          {analysis.labelSources.map((s) => (
            <label key={s} className="check">
              <input type="radio" name="label-source" value={s} checked={source === s} disabled={busy} onChange={() => setSource(s)} data-testid={`label-source-${s}`} />
              {s === 'folders' ? 'the folder each image is in' : `the CSV file (${analysis.selection.labelFiles[0]})`}
            </label>
          ))}
        </fieldset>
      )}
      {analysis.csv && (
        <p className="small muted">
          {analysis.csv.name}: {count(analysis.csv.rows)} rows{analysis.csv.header ? ' after its header' : ', no header'}; file names from <code>{analysis.csv.fileColumn}</code>, labels from{' '}
          <code>{analysis.csv.labelColumn}</code>.
        </p>
      )}
      {analysis.labels.length === 0 ? (
        <p className="muted small">No label values found.</p>
      ) : (
        <table className="mapping-table" data-testid="label-mapping">
          <thead>
            <tr>
              <th scope="col">{what}</th>
              <th scope="col" className="num">
                Images
              </th>
              <th scope="col">Class</th>
            </tr>
          </thead>
          <tbody>
            {analysis.labels.map((l) => (
              <tr key={l.value} data-value={l.value}>
                <th scope="row">
                  <code>{l.value}</code>
                </th>
                <td className="num">{count(l.files)}</td>
                <td>
                  <select
                    aria-label={`Class of ${l.value}`}
                    value={mapping[l.value] === null || mapping[l.value] === undefined ? '' : String(mapping[l.value])}
                    disabled={busy}
                    onChange={(e) => setMapping({ ...mapping, [l.value]: e.target.value === '' ? null : Number(e.target.value) })}
                    data-testid="label-class"
                  >
                    {classes.map((c, k) => (
                      <option key={k} value={k}>
                        {k}: {c}
                      </option>
                    ))}
                    <option value="">leave these images out</option>
                  </select>
                  {l.guessed && l.classIndex !== null && <span className="muted small"> guessed from the name</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="actions">
        <button
          type="button"
          className="button"
          disabled={busy || !dirty}
          onClick={() => onApply({ ...options, labelSource: source, mapping: source === analysis.labelSource ? mapping : undefined })}
          data-testid="label-apply"
        >
          Read the images again with these labels
        </button>
      </div>
    </div>
  );
}

export function FailureList({ analysis }: { analysis: ImageAnalysis }) {
  if (analysis.failedCount === 0) return <p className="ok-text small">Every labelled image could be decoded.</p>;
  const listed = analysis.failed.slice(0, LISTED_FAILURES);
  return (
    <ScrollFrame label="Images that will be dropped" className="table-wrap errors-wrap">
      <table data-testid="image-failures">
        <caption className="muted small">
          Images that will be dropped{analysis.failedCount > listed.length ? ` (the first ${listed.length} of ${count(analysis.failedCount)})` : ''}.
        </caption>
        <thead>
          <tr>
            <th scope="col">File</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {listed.map((f) => (
            <tr key={f.path} data-testid="image-failure" data-path={f.path}>
              <td className="wrap">
                <code>{f.path}</code>
              </td>
              <td className="wrap">{f.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollFrame>
  );
}

export function DecodeFigure({ analysis }: { analysis: ImageAnalysis }) {
  const { images, ms } = analysis.decode;
  if (images === 0) return null;
  const s = analysis.sourceSizes;
  const range = (a: number, b: number) => (a === b ? `${a}` : `${a}–${b}`);
  return (
    <span className="muted small" data-testid="image-decode-rate" data-images={images} data-ms={Math.round(ms)}>
      decoded in this browser in {(ms / 1000).toFixed(ms < 10_000 ? 2 : 0)} s ({count(Math.round((images * 1000) / Math.max(1, ms)))} images/s)
      {s ? ` · source ${range(s.minWidth, s.maxWidth)} × ${range(s.minHeight, s.maxHeight)} px` : ''}
    </span>
  );
}
