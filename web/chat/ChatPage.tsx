import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { MAX_MESSAGE_LENGTH } from '../../shared/chat';
import { answer } from './answerSource';
import { useConversation, type ChatEntry } from './conversation';
import { ReplyView } from './ReplyView';
import { RISK_CHECK_COMING } from './riskCheck';
import { SUGGESTED_QUESTIONS } from './suggestions';
import './chat.css';

export function ChatPage() {
  const { entries, add, clear } = useConversation();
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState(false);
  const logRef = useRef<HTMLOListElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    document.title = 'Ask about heart and liver health · Consilium';
  }, []);
  // Bring the latest question to the top of the screen, so its answer reads from the start (an urgent
  // answer included) instead of ending up behind the input that stays at the bottom.
  const lastCount = useRef(entries.length);
  useEffect(() => {
    if (entries.length > lastCount.current) {
      const questions = logRef.current?.querySelectorAll('[data-role="user"]');
      questions?.[questions.length - 1]?.scrollIntoView?.({ block: 'start' });
    }
    lastCount.current = entries.length;
  }, [entries.length]);

  async function ask(text: string) {
    const message = text.trim().slice(0, MAX_MESSAGE_LENGTH);
    if (!message || busy) return;
    setDraft('');
    add({ role: 'user', text: message });
    setBusy(true);
    try {
      add({ role: 'assistant', reply: await answer(message) });
    } finally {
      setBusy(false);
      inputRef.current?.focus();
    }
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    void ask(draft);
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter sends, Shift+Enter starts a new line (the usual chat convention).
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void ask(draft);
    }
  }

  // The seam for the on-device risk check: the lead wires the approved model here (see riskCheck.ts).
  function checkRisk() {
    add({ role: 'user', text: 'Check my risk' });
    add({ role: 'notice', notice: 'risk-check-coming' });
  }

  const left = MAX_MESSAGE_LENGTH - draft.length;

  return (
    <section className="chat" aria-labelledby="chat-title">
      <header className="chat-head">
        <div>
          <p className="eyebrow">Patient information</p>
          <h1 id="chat-title">Ask about heart and liver health</h1>
          <p className="muted chat-intro">
            Answers are quoted from short articles reviewed against public health guidance, with a link to each one.
            They are information, not a diagnosis. <strong>In an emergency, call 112, 999 or 911.</strong>
          </p>
        </div>
        <div className="chat-head-actions">
          <button type="button" className="button primary" onClick={checkRisk} data-testid="check-risk">
            Check my risk
          </button>
          {entries.length > 0 && (
            <button type="button" className="button" onClick={clear}>
              Clear conversation
            </button>
          )}
        </div>
      </header>

      <div className="chat-log-wrap">
        <ol ref={logRef} className="chat-log" aria-live="polite" aria-label="Conversation" data-testid="chat-log">
          {entries.map((e) => (
            <Entry key={e.id} entry={e} />
          ))}
          {busy && (
            <li className="chat-msg assistant">
              <p className="loading">Looking that up…</p>
            </li>
          )}
        </ol>
        {entries.length === 0 && (
          <div className="chat-empty">
            <p>Try one of these, or ask in your own words:</p>
            <ul className="chat-suggestions" aria-label="Suggested questions">
              {SUGGESTED_QUESTIONS.map((q) => (
                <li key={q}>
                  <button type="button" className="chat-chip" onClick={() => void ask(q)}>
                    {q}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>

      <form className={`chat-form${entries.length ? ' sticky' : ''}`} onSubmit={onSubmit}>
        <label htmlFor="chat-input" className="visually-hidden">
          Your question
        </label>
        <textarea
          id="chat-input"
          ref={inputRef}
          data-testid="chat-input"
          value={draft}
          maxLength={MAX_MESSAGE_LENGTH}
          rows={2}
          placeholder="Ask a question, for example: what is a normal blood pressure?"
          onChange={(e) => setDraft(e.target.value.slice(0, MAX_MESSAGE_LENGTH))}
          onKeyDown={onKeyDown}
          aria-describedby="chat-input-help"
        />
        <div className="chat-form-row">
          <span id="chat-input-help" className={`small ${left < 50 ? 'chat-count-low' : 'muted'}`} aria-live="polite">
            {left} characters left
          </span>
          <button type="submit" className="button primary" disabled={!draft.trim() || busy} data-testid="chat-send">
            Send
          </button>
        </div>
        <p className="muted small chat-privacy">
          Without an account, this conversation stays in this browser tab only and is gone when you close it.
        </p>
      </form>
    </section>
  );
}

function Entry({ entry }: { entry: ChatEntry }) {
  if (entry.role === 'user')
    return (
      <li className="chat-msg user" data-testid="chat-message" data-role="user">
        <span className="visually-hidden">You asked: </span>
        <p>{entry.text}</p>
      </li>
    );
  if (entry.role === 'notice')
    return (
      <li className="chat-msg assistant" data-testid="chat-message" data-role="assistant">
        <div className="chat-reply notice" data-testid="chat-reply" data-kind="risk-check-coming">
          <p>{RISK_CHECK_COMING}</p>
        </div>
      </li>
    );
  return (
    <li className="chat-msg assistant" data-testid="chat-message" data-role="assistant">
      <ReplyView reply={entry.reply} />
    </li>
  );
}
