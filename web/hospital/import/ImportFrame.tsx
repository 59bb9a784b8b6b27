import type { ReactNode } from 'react';

/** What the CSV and the image import share around their own content: the start, the progress, the actions. */

const LOCKED = 'This tab has joined the study and trains on the dataset above; reload the page to import other data before joining.';

/** Before a file is chosen, or after an import ended or failed: its message, the drop zone, a hint. */
export function ImportStart({ done, error, locked, hint, children }: { done?: string; error?: string; locked: boolean; hint: string; children: ReactNode }) {
  return (
    <>
      {done && (
        <p className="ok-text" role="status" data-testid="import-done">
          {done}
        </p>
      )}
      {error && (
        <div role="alert" className="error-text" data-testid="import-error">
          {error}
        </div>
      )}
      {children}
      <p className="muted small">{locked ? LOCKED : hint}</p>
    </>
  );
}

/** The worker reading the files: what it reads, a progress bar (0–1), how far it got, and Cancel. */
export function ImportProgress({ label, fraction, status, onCancel, children }: { label: string; fraction: number; status: string; onCancel: () => void; children: ReactNode }) {
  const percent = Math.round(fraction * 100);
  return (
    <div className="reading" aria-live="polite">
      <p>{children}</p>
      <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} data-testid="import-progress">
        <span style={{ width: `${fraction * 100}%` }} />
      </div>
      <p className="muted small">{status}</p>
      <button type="button" className="button" onClick={onCancel} data-testid="import-cancel">
        Cancel
      </button>
    </div>
  );
}

/**
 * Import or cancel after the review. `staged`: the worker holds a checked import ready to store;
 * `usable`: something in the files can be imported; `dirty`: settings changed since the last check.
 */
export function ReviewActions(props: {
  staged: boolean;
  usable: boolean;
  dirty: boolean;
  committing: boolean;
  commitLabel: string;
  /** The Cancel button's label when nothing can be imported. */
  retryLabel: string;
  /** Shown while `dirty`. */
  recheckHint: string;
  /** Shown when nothing can be imported. */
  unusableHint: string;
  onCommit: () => void;
  onCancel: () => void;
}) {
  const { staged, usable, dirty, committing } = props;
  return (
    <div className="actions review-actions">
      {(staged || usable) && (
        <button type="button" className="button primary" disabled={!staged || dirty || committing} onClick={props.onCommit} data-testid="import-commit">
          {committing ? 'Importing…' : props.commitLabel}
        </button>
      )}
      <button type="button" className="button" disabled={committing} onClick={props.onCancel} data-testid="import-cancel">
        {staged || usable ? 'Cancel' : props.retryLabel}
      </button>
      <p className="muted small">
        {dirty ? props.recheckHint : staged ? 'The current dataset stays in use until you import; it is replaced in one step.' : props.unusableHint}
      </p>
    </div>
  );
}
