import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { ClinicalMetrics } from '../../shared/metrics/clinical';
import type { ModelVersionView } from '../../shared/protocol';
import { approveVersion, listApprovals, listVersions, modelJsonUrl, restartFromVersion } from '../api/endpoints';
import { DASH, fixed, integer, percent } from '../format';
import { VersionSiteReports } from './VersionSiteReports';

/**
 * Every model version of the study: lineage, content hash, global validation metrics, a download in
 * TensorFlow.js format, and approval. The approved version is what patients and non-admin downloads
 * get; approving an earlier one is the rollback.
 */
export function ModelVersionsPanel({ studyId, currentVersion, refreshKey }: { studyId: string; currentVersion: number; refreshKey: string }) {
  const queryClient = useQueryClient();
  // Refetched whenever the dashboard's refresh key moves (a new version, another evaluation report).
  const versions = useQuery({ queryKey: ['versions', studyId, refreshKey], queryFn: () => listVersions(studyId), placeholderData: (previous) => previous });
  const approvals = useQuery({ queryKey: ['approvals', studyId], queryFn: () => listApprovals(studyId) });
  const [selected, setSelected] = useState<number | null>(null);
  const [opened, setOpened] = useState<number | null>(null);
  const [note, setNote] = useState('');
  const approve = useMutation({
    mutationFn: (v: { version: number; note: string }) => approveVersion(studyId, v.version, v.note),
    onSuccess: () => {
      setSelected(null);
      setNote('');
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
        <div className="table-wrap">
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
                <th scope="col">SHA-256</th>
                <th scope="col">Download</th>
                <th scope="col">Approval</th>
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
                  onApprove={() => setSelected(v.version)}
                  onRestart={() => {
                    if (window.confirm(`Continue the study from v${v.version}? A round in progress is abandoned; the next round trains from v${v.version}.`))
                      restart.mutate(v.version);
                  }}
                  busy={approve.isPending || restart.isPending}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {restart.isError && (
        <p role="alert" className="error-text">
          Could not restart: {restart.error.message}
        </p>
      )}
      {selected !== null && (
        <form
          className="approve-form"
          onSubmit={(e) => {
            e.preventDefault();
            approve.mutate({ version: selected, note });
          }}
        >
          <label>
            Why approve v{selected}
            {approved && selected < approved.version ? ' (a rollback)' : ''}?
            <textarea
              name="note"
              required
              maxLength={2000}
              rows={2}
              value={note}
              onChange={(e) => setNote(e.target.value)}
              placeholder="e.g. validated on round 8: accuracy 84 %, calibration checked at every site"
            />
          </label>
          <div className="actions">
            <button type="submit" className="button primary" disabled={approve.isPending || note.trim() === ''}>
              Approve v{selected}
            </button>
            <button type="button" className="button" onClick={() => setSelected(null)}>
              Cancel
            </button>
          </div>
          {approve.isError && (
            <p role="alert" className="error-text">
              {approve.error.message}
            </p>
          )}
        </form>
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
  onApprove: () => void;
  onRestart: () => void;
  busy: boolean;
}) {
  const { studyId, v, refreshKey, open, onToggle, current, onApprove, onRestart, busy } = props;
  return (
    <>
    <tr data-testid="version-row" data-version={v.version}>
      <th scope="row">
        v{v.version}
        {current && <span className="muted small"> (current)</span>}
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
      <td className="small" data-testid="clinical">
        {clinicalSummary(v.clinical)}
      </td>
      <td>
        <code title={v.sha256}>{v.sha256.slice(0, 12)}</code>
      </td>
      <td>
        <a href={modelJsonUrl(studyId, v.version)} download={`${studyId}-v${v.version}-model.json`}>
          model.json
        </a>
        {' · '}
        <a href={modelJsonUrl(studyId, v.version).replace(/model\.json$/, 'weights.bin')} download={`weights.bin`}>
          weights.bin
        </a>
      </td>
      <td>
        {v.approved ? (
          <span className="badge ok">approved</span>
        ) : (
          <button type="button" className="button" onClick={onApprove} disabled={busy}>
            Approve…
          </button>
        )}
        {!current && (
          <button type="button" className="button" onClick={onRestart} disabled={busy} title={`Continue training from v${v.version}`}>
            Continue from here
          </button>
        )}
      </td>
    </tr>
    {open && (
      <tr className="detail-row">
        <td colSpan={9}>
          <VersionSiteReports studyId={studyId} version={v.version} refreshKey={refreshKey} />
        </td>
      </tr>
    )}
    </>
  );
}

/** One line a clinician reads: discrimination, the operating point at 0.5, calibration. */
function clinicalSummary(m: ClinicalMetrics | null): string {
  if (!m) return DASH;
  const ece = `ECE ${fixed(m.ece, 3)}`;
  if (m.kind === 'binary') return `AUROC ${fixed(m.auroc, 3)} · sens. ${percent(m.sensitivity)} · spec. ${percent(m.specificity)} · ${ece}`;
  return `macro-F1 ${fixed(m.macroF1, 3)} · recall ${m.recall.map((r) => percent(r, 0)).join(' / ')} · ${ece}`;
}
