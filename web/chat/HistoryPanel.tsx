import { useState } from 'react';
import type { ConversationSummary } from '../../shared/protocol/chat';

/** A signed-in patient's saved conversations, and the way to delete them all. */
export function HistoryPanel(props: {
  conversations: ConversationSummary[];
  current: string | null;
  error: string | null;
  disabled: boolean;
  onOpen(id: string): void;
  onDelete(): Promise<void>;
}) {
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);
  const [done, setDone] = useState(false);

  async function remove() {
    setDeleting(true);
    setFailed(null);
    try {
      await props.onDelete();
      setDone(true);
      setConfirming(false);
    } catch (e) {
      setFailed(`Your history could not be deleted: ${(e as Error).message}`);
    } finally {
      setDeleting(false);
    }
  }

  return (
    <details className="chat-history" data-testid="chat-history">
      <summary>Your saved conversations ({props.conversations.length})</summary>
      {props.error && <p className="chat-count-low small">{props.error}</p>}
      {props.conversations.length === 0 ? (
        <p className="muted small">{done ? 'Your history has been deleted.' : 'None yet: what you ask here is kept in your account.'}</p>
      ) : (
        <ul className="chat-history-list">
          {props.conversations.map((c) => (
            <li key={c.id}>
              <button type="button" className="chat-chip" disabled={props.disabled} aria-current={c.id === props.current ? 'true' : undefined} onClick={() => props.onOpen(c.id)}>
                {c.title}
              </button>{' '}
              <span className="muted small">{new Date(c.updatedAt).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' })}</span>
            </li>
          ))}
        </ul>
      )}
      {confirming ? (
          <div className="chat-history-confirm" role="group" aria-label="Confirm deletion">
            <p className="small">Delete all your saved conversations, for good?</p>
            <button type="button" className="button danger" onClick={() => void remove()} disabled={deleting}>
              Yes, delete everything
            </button>{' '}
            <button type="button" className="button" onClick={() => setConfirming(false)} disabled={deleting}>
              Cancel
            </button>
          </div>
        ) : (
          <button type="button" className="button" onClick={() => setConfirming(true)}>
            Delete my history
          </button>
        )}
      {failed && (
        <p role="alert" className="chat-count-low small">
          {failed}
        </p>
      )}
    </details>
  );
}
