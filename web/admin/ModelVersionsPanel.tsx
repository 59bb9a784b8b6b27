import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import type { ClinicalMetrics } from '../../shared/metrics/clinical';
import type { ModelVersionView } from '../../shared/protocol';
import { approveVersion, listApprovals, listVersions, modelJsonUrl, restartFromVersion } from '../api/endpoints';
import { getTemplate } from '../../shared/tasks';
import { DASH, fixed, integer, percent } from '../format';
import { approvalWarnings, type ApprovalWarning } from './approvalChecks';
import { VersionSiteReports } from './VersionSiteReports';
import { ScrollFrame } from '../layout/ScrollFrame';

/** Columns of the versions table, for the detail rows that span it. */
const COLUMNS = 8;

/**
 * Every model version of the study: lineage, content hash, global validation metrics, a download in
 * TensorFlow.js format, and approval. The approved version is what patients and non-admin downloads
 * get; approving an earlier one is the rollback. Approving a version with a reason to doubt it (see
 * approvalChecks.ts) takes a second, explicit click after reading the reasons. The table fits a
 * 1,280 px screen, and its actions column stays in view if it ever has to scroll.
 */
export function ModelVersionsPanel(props: {
  studyId: string;
  currentVersion: number;
  refreshKey: string;
  /** The study's template, whose class names the warnings use. */
  templateId?: string;
  /** False for a stopped study: stopped is final (the server refuses to continue it), so no row offers to. */
  canContinue?: boolean;
}) {
  const { studyId, currentVersion, refreshKey, templateId, canContinue = true } = props;
  const classNames = templateClassNames(templateId);
  const queryClient = useQueryClient();
  // Refetched whenever the dashboard's refresh key moves (a new version, another evaluation report).
  const versions = useQuery({ queryKey: ['versions', studyId, refreshKey], queryFn: () => listVersions(studyId), placeholderData: (previous) => previous });
  const approvals = useQuery({ queryKey: ['approvals', studyId], queryFn: () => listApprovals(studyId) });
  const [selected, setSelected] = useState<number | null>(null);
  const [opened, setOpened] = useState<number | null>(null);
  const approve = useMutation({
    mutationFn: (v: { version: number; note: string }) => approveVersion(studyId, v.version, v.note),
    onSuccess: () => {
      setSelected(null);
      void queryClient.invalidateQueries({ queryKey: ['versions', studyId] });
      void queryClient.invalidateQueries({ queryKey: ['approvals', studyId] });
    },
  });

  const restart = useMutation({
    mutationFn: (version: number) => restartFromVersion(studyId, version),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['versions', studyId] });
      void queryClient.invalidateQueries({ queryKey: ['dashboard', studyId] });
    },
  });

  const rows = [...(versions.data ?? [])].reverse();
  const approved = versions.data?.find((v) => v.approved) ?? null;
  return (
    <section className="panel" aria-labelledby="versions-title">
      <div className="panel-head">
        <h2 id="versions-title">Model versions</h2>
        <span className="muted small" data-testid="approved-version">
          {approved ? `Approved for patients: v${approved.version}` : 'No version approved for patients yet'}
        </span>
      </div>
      {versions.isError && (
        <p role="alert" className="error-text">
          Could not load the versions: {versions.error.message}
        </p>
      )}
      {rows.length > 0 && (
        <ScrollFrame label="Version list">
          <table>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">From</th>
                <th scope="col" className="num">
                  Val. loss
                </th>
                <th scope="col" className="num">
                  Accuracy
                </th>
                <th scope="col" className="num">
                  Samples
                </th>
                <th scope="col">Clinical (pooled)</th>
                <th scope="col">Model</th>
                <th scope="col" className="sticky-actions">
                  Actions
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((v) => (
                <VersionRow
                  key={v.version}
                  studyId={studyId}
                  v={v}
                  refreshKey={refreshKey}
                  open={opened === v.version}
                  onToggle={() => setOpened(opened === v.version ? null : v.version)}
                  current={v.version === currentVersion}
                  canContinue={canContinue}
                  approving={selected === v.version}
                  onApprove={() => {
                    approve.reset();
                    setSelected(selected === v.version ? null : v.version);
                  }}
                  onRestart={() => {
                    if (window.confirm(`Continue the study from v${v.version}? A round in progress is abandoned; the next round trains from v${v.version}.`))
                      restart.mutate(v.version);
                  }}
                  busy={approve.isPending || restart.isPending}
                  approveForm={
                    <ApproveForm
                      version={v.version}
                      rollbackOf={approved && v.version < approved.version ? approved.version : null}
                      warnings={approvalWarnings(v, versions.data ?? [], classNames)}
                      pending={approve.isPending}
                      error={approve.isError ? approve.error.message : null}
                      onApprove={(note) => approve.mutate({ version: v.version, note })}
                      onCancel={() => setSelected(null)}
                    />
                  }
                />
              ))}
            </tbody>
          </table>
        </ScrollFrame>
      )}
      {restart.isError && (
        <p role="alert" className="error-text">
          Could not restart: {restart.error.message}
        </p>
      )}
      {(approvals.data?.length ?? 0) > 0 && (
        <details className="approvals">
          <summary>Approval history ({approvals.data!.length})</summary>
          <ol data-testid="approval-history">
            {approvals.data!.map((a) => (
              <li key={`${a.approvedAt}-${a.version}`}>
                <strong>v{a.version}</strong>
                {a.previousVersion !== null ? ` (replacing v${a.previousVersion})` : ''} by {a.approvedBy},{' '}
                {new Date(a.approvedAt).toLocaleString()}: {a.note}
              </li>
            ))}
          </ol>
        </details>
      )}
    </section>
  );
}

function VersionRow(props: {
  studyId: string;
  v: ModelVersionView;
  refreshKey: string;
  open: boolean;
  onToggle: () => void;
  current: boolean;
  approving: boolean;
  onApprove: () => void;
  onRestart: () => void;
  canContinue: boolean;
  busy: boolean;
  approveForm: ReactNode;
}) {
  const { studyId, v, refreshKey, open, onToggle, current, canContinue, approving, onApprove, onRestart, busy, approveForm } = props;
  const files = modelJsonUrl(studyId, v.version);
  return (
    <>
      <tr data-testid="version-row" data-version={v.version} className={approving ? 'approving' : undefined}>
        <th scope="row">
          v{v.version}
          {current && <span className="muted small block">current</span>}
        </th>
        <td>{v.round !== null ? `round ${v.round}` : v.parentVersion === null ? 'initial' : `v${v.parentVersion}`}</td>
        <td className="num">{fixed(v.loss)}</td>
        <td className="num">{percent(v.accuracy)}</td>
        <td className="num">
          {v.reports ? integer(v.numSamples) : DASH}
          {(v.reports > 0 || v.flagged > 0) && (
            <button type="button" className={`link-button small${v.flagged ? ' flagged' : ''}`} aria-expanded={open} onClick={onToggle} data-testid="site-reports-toggle">
              {v.flagged ? `${v.flagged} flagged, left out` : `${v.reports} sites`}
            </button>
          )}
        </td>
        <td className="small clinical" data-testid="clinical">
          {clinicalLines(v.clinical).map((line, i) => (
            <span key={i} className="block">
              {line}
            </span>
          ))}
        </td>
        <td className="small">
          <span className="block nowrap">
            <code title={v.sha256} data-testid="version-sha">
              {v.sha256.slice(0, 8)}
            </code>{' '}
            <CopyButton text={v.sha256} label={`Copy the SHA-256 of v${v.version}`} />
          </span>
          <span className="block nowrap">
            <a href={files} download={`${studyId}-v${v.version}-model.json`} aria-label={`Download v${v.version} model.json`}>
              model.json
            </a>
            {' · '}
            <a href={files.replace(/model\.json$/, 'weights.bin')} download="weights.bin" aria-label={`Download v${v.version} weights.bin`}>
              weights.bin
            </a>
          </span>
        </td>
        <td className="sticky-actions">
          <div className="row-actions">
            {v.approved ? (
              <span className="badge ok">approved</span>
            ) : (
              <button type="button" className="button small" onClick={onApprove} disabled={busy} aria-expanded={approving}>
                Approve…
              </button>
            )}
            {!current && canContinue && (
              <button type="button" className="button small" onClick={onRestart} disabled={busy} title={`Continue training from v${v.version}`}>
                Continue from here
              </button>
            )}
          </div>
        </td>
      </tr>
      {approving && (
        <tr className="detail-row approve-row">
          <td colSpan={COLUMNS}>{approveForm}</td>
        </tr>
      )}
      {open && (
        <tr className="detail-row">
          <td colSpan={COLUMNS}>
            <VersionSiteReports studyId={studyId} version={v.version} refreshKey={refreshKey} />
          </td>
        </tr>
      )}
    </>
  );
}

/**
 * The approval note, opened under the row it concerns. With warnings, the first Approve only shows
 * them; approving takes a second, explicit click on "Approve … anyway".
 */
function ApproveForm(props: {
  version: number;
  rollbackOf: number | null;
  warnings: ApprovalWarning[];
  pending: boolean;
  error: string | null;
  onApprove: (note: string) => void;
  onCancel: () => void;
}) {
  const { version, rollbackOf, warnings, pending, error, onApprove, onCancel } = props;
  const [note, setNote] = useState('');
  const [confirming, setConfirming] = useState(false);
  const id = useId();
  const back = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    // The safe choice has the focus when the reasons appear.
    if (confirming) back.current?.focus();
  }, [confirming]);
  return (
    <form
      className="approve-form"
      aria-label={`Approve v${version}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (warnings.length > 0 && !confirming) setConfirming(true);
        else onApprove(note);
      }}
    >
      <label>
        Why approve v{version}
        {rollbackOf !== null ? ` (a rollback from v${rollbackOf})` : ''}?
        <textarea
          name="note"
          required
          autoFocus
          maxLength={2000}
          rows={2}
          value={note}
          readOnly={confirming}
          onChange={(e) => setNote(e.target.value)}
          placeholder="e.g. validated on round 8: accuracy 84 %, calibration checked at every site"
        />
      </label>
      {confirming ? (
        <div className="approve-confirm" role="alertdialog" aria-labelledby={`${id}-title`} aria-describedby={`${id}-reasons`} data-testid="approve-confirm">
          <p id={`${id}-title`} className="approve-confirm-title">
            Approve v{version} for patients anyway?
          </p>
          <ul id={`${id}-reasons`} data-testid="approve-reasons">
            {warnings.map((w) => (
              <li key={w.kind} data-kind={w.kind}>
                {w.reason}
              </li>
            ))}
          </ul>
          <div className="actions">
            <button type="submit" className="button danger solid" disabled={pending || note.trim() === ''}>
              Approve v{version} anyway
            </button>
            <button type="button" className="button" ref={back} onClick={() => setConfirming(false)}>
              Back
            </button>
          </div>
        </div>
      ) : (
        <div className="actions">
          <button type="submit" className="button primary" disabled={pending || note.trim() === ''}>
            Approve v{version}
          </button>
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      )}
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
    </form>
  );
}

/** Copies a full hash the table shortens; says so for a moment. */
function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const t = setTimeout(() => setState('idle'), 1500);
    return () => clearTimeout(t);
  }, [state]);
  return (
    <button
      type="button"
      className="icon-button"
      aria-label={label}
      title={state === 'copied' ? 'Copied' : state === 'failed' ? 'Could not copy: select the hash in its tooltip' : label}
      onClick={() => {
        navigator.clipboard?.writeText(text).then(
          () => setState('copied'),
          () => setState('failed'),
        ) ?? setState('failed');
      }}
    >
      {state === 'copied' ? (
        <span aria-live="polite">✓</span>
      ) : (
        <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
          <rect x="5" y="5" width="9" height="9" rx="1.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
          <path d="M11 3.5V3a1 1 0 0 0-1-1H3a1 1 0 0 0-1 1v7a1 1 0 0 0 1 1h.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
        </svg>
      )}
    </button>
  );
}

/**
 * Two short lines a clinician reads: discrimination with the operating point at 0.5, then the rest of
 * it and calibration (binary); macro-F1 and calibration, then each class's recall (multi-class).
 */
function clinicalLines(m: ClinicalMetrics | null): string[] {
  if (!m) return [DASH];
  const ece = `ECE ${fixed(m.ece, 3)}`;
  if (m.kind === 'binary') return [`AUROC ${fixed(m.auroc, 3)} · sens. ${percent(m.sensitivity)}`, `spec. ${percent(m.specificity)} · ${ece}`];
  return [`macro-F1 ${fixed(m.macroF1, 3)} · ${ece}`, `recall ${m.recall.map((r) => percent(r, 0)).join(' / ')}`];
}

/** Class names by class index: binary templates name their negative and positive labels. */
function templateClassNames(templateId: string | undefined): string[] | undefined {
  const t = templateId ? getTemplate(templateId) : undefined;
  if (!t) return undefined;
  return t.label.classes ?? [t.label.negative, t.label.positive];
}
