import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import type { Dashboard } from '../../shared/protocol';
import { changeStudyStatus } from '../api/endpoints';

/**
 * Pause, resume and stop. Pausing lets the open round finish; stopping abandons it and is final, so
 * it asks first. The dashboard itself updates from the server's push. `buttons` sit in the study's
 * title row; `panel` (the stop confirmation, notes, errors) below it.
 */
export function useStudyControls(dashboard: Dashboard): { buttons: ReactNode; panel: ReactNode } {
  const { study, openRound } = dashboard;
  const queryClient = useQueryClient();
  const [confirmStop, setConfirmStop] = useState(false);
  const action = useMutation({
    mutationFn: (a: 'pause' | 'resume' | 'stop') => changeStudyStatus(study.id, a),
    onSuccess: () => {
      setConfirmStop(false);
      void queryClient.invalidateQueries({ queryKey: ['dashboard', study.id] });
      void queryClient.invalidateQueries({ queryKey: ['studies'] });
    },
  });
  const busy = action.isPending;
  const canPause = study.status === 'waiting' || study.status === 'running';
  const canStop = canPause || study.status === 'paused';
  if (!canStop) return { buttons: null, panel: null };

  const buttons = (
    <div className="control-buttons">
      {study.status === 'paused' ? (
        <button type="button" className="button primary" onClick={() => action.mutate('resume')} disabled={busy}>
          Resume
        </button>
      ) : (
        <button type="button" className="button" onClick={() => action.mutate('pause')} disabled={busy}>
          Pause
        </button>
      )}
      <button type="button" className="button danger" onClick={() => setConfirmStop(true)} disabled={busy || confirmStop}>
        Stop…
      </button>
    </div>
  );
  const panel = (study.status === 'paused' || confirmStop || action.isError) && (
    <div className="study-controls">
      {study.status === 'paused' && (
        <p className="paused-note" data-testid="paused-note">
          Paused: {openRound ? `round ${openRound.round} finishes, then no` : 'no'} new round opens until you resume.
        </p>
      )}
      {confirmStop && (
        <div className="confirm-box" role="alertdialog" aria-labelledby="stop-title" aria-describedby="stop-text">
          <p id="stop-title">
            <strong>Stop “{study.name}” for good?</strong>
          </p>
          <p id="stop-text">
            {openRound ? `Round ${openRound.round} is abandoned and its updates are discarded. ` : ''}No round will open again; the model versions
            made so far stay available. This cannot be undone.
          </p>
          <div className="control-buttons">
            <button type="button" className="button danger solid" onClick={() => action.mutate('stop')} disabled={busy}>
              Stop the study
            </button>
            <button type="button" className="button" onClick={() => setConfirmStop(false)} disabled={busy}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {action.isError && (
        <p role="alert" className="error-text">
          {action.error.message}
        </p>
      )}
    </div>
  );
  return { buttons, panel };
}
