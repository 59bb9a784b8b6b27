import { outboxStatusLine, type OutboxView } from '../training/outboxPolicy';
import { useNow } from '../useNow';

/** The site's outbox: updates waiting for the server, when the next attempt is, and what was dropped. */
export function OutboxStatus({ outbox, notice }: { outbox: OutboxView; notice: string | null }) {
  const waiting = outbox.entries.length;
  const now = useNow(1000, waiting > 0);
  const line = outboxStatusLine(outbox, now);
  const lastError = outbox.entries.find((e) => e.lastError)?.lastError;
  return (
    <div className="outbox">
      <p className="muted small">
        Updates waiting to be delivered: <strong data-testid="outbox-count">{waiting}</strong>
      </p>
      {line && (
        <p className="outbox-status" role="status" data-testid="outbox-status">
          {line}
          {lastError && <span className="muted small block">Last attempt: {lastError}</span>}
        </p>
      )}
      {notice && (
        <p role="alert" className="error-text" data-testid="outbox-discarded">
          {notice}
        </p>
      )}
    </div>
  );
}
