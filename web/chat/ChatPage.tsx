import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { MAX_MESSAGE_LENGTH } from '../../shared/chat';
import { ChatRefusal, createAnswerSource, type AnswerSourceHandle } from './answerSource';
import { useConversation, type ChatEntry, type NewChatEntry } from './conversation';
import { usePatientHistory } from './history';
import { HistoryPanel } from './HistoryPanel';
import { ReplyView, SavedReplyView } from './ReplyView';
import { wantsRiskCheck } from './risk/intent';
import { rangeText } from './risk/questions';
import { RiskChoices, RiskStepView } from './risk/RiskViews';
import { useRiskCheck } from './risk/useRiskCheck';
import { SUGGESTED_QUESTIONS } from './suggestions';
import './chat.css';

export function ChatPage() {
  const { entries, add, clear, replace, conversationId, setConversationId } = useConversation();
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState(false);
  /** The answer as it streams in; null when none is streaming. */
  const [streaming, setStreaming] = useState<string | null>(null);
  const history = usePatientHistory();
  const source = useRef<AnswerSourceHandle | null>(null);
  useEffect(() => {
    const s = createAnswerSource();
    source.current = s;
    return () => {
      s.close();
      source.current = null;
    };
  }, []);
  const logRef = useRef<HTMLOListElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const risk = useRiskCheck(add);

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
    // While the risk check asks, what the patient types answers it (and stays on the device); while
    // it fetches the model or computes, the draft waits.
    if (risk.active) {
      if (risk.phase !== 'asking') return;
      setDraft('');
      await risk.reply(message);
      inputRef.current?.focus();
      return;
    }
    setDraft('');
    add({ role: 'user', text: message });
    if (wantsRiskCheck(message)) {
      await risk.start();
      inputRef.current?.focus();
      return;
    }
    setBusy(true);
    setStreaming('');
    try {
      const src = source.current ?? createAnswerSource();
      const a = await src.answer(message, {
        conversationId,
        onDelta: (t) => setStreaming((s) => (s ?? '') + t),
        onReset: () => setStreaming(''),
      });
      add({ role: 'assistant', reply: a.reply });
      if (a.conversationId) {
        setConversationId(a.conversationId);
        void history.refresh();
      }
    } catch (e) {
      add({
        role: 'notice',
        text: e instanceof ChatRefusal ? e.message : 'Something went wrong while answering. Please try again in a moment.',
      });
    } finally {
      setStreaming(null);
      setBusy(false);
      inputRef.current?.focus();
    }
  }

  async function openSaved(id: string) {
    if (busy || risk.active) return;
    const c = await history.open(id);
    const shown: NewChatEntry[] = c.messages.map((m) =>
      m.role === 'patient' ? { role: 'user', text: m.text } : { role: 'saved', text: m.text, citations: m.citations },
    );
    replace(shown, c.id);
  }

  async function deleteHistory() {
    await history.deleteAll();
    risk.stop();
    clear();
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

  function checkRisk() {
    if (risk.active) return;
    add({ role: 'user', text: 'Check my risk' });
    void risk.start().then(() => inputRef.current?.focus());
  }

  function clearAll() {
    risk.stop();
    clear();
  }

  const asking = risk.phase === 'asking' && risk.question;

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
          <button type="button" className="button primary" onClick={checkRisk} data-testid="check-risk" disabled={risk.active}>
            Check my risk
          </button>
          {entries.length > 0 && (
            <button type="button" className="button" onClick={clearAll}>
              Clear conversation
            </button>
          )}
        </div>
      </header>

      {history.signedIn && (
        <HistoryPanel
          conversations={history.conversations}
          current={conversationId}
          error={history.error}
          disabled={busy || risk.active}
          onOpen={(id) => void openSaved(id)}
          onDelete={deleteHistory}
        />
      )}

      <div className="chat-log-wrap">
        {/* aria-busy while an answer streams: screen readers announce it once, whole, not word by word. */}
        <ol ref={logRef} className="chat-log" aria-live="polite" aria-busy={busy} aria-label="Conversation" data-testid="chat-log">
          {entries.map((e) => (
            <Entry key={e.id} entry={e} />
          ))}
          {busy && !streaming && (
            <li className="chat-msg assistant">
              <p className="loading">Looking that up…</p>
            </li>
          )}
          {busy && streaming && (
            <li className="chat-msg assistant" data-testid="chat-streaming">
              <div className="chat-reply streaming">
                <p className="chat-stream-text">{streaming}</p>
              </div>
            </li>
          )}
          {risk.phase === 'loading' && (
            <li className="chat-msg assistant">
              <p className="loading">Fetching the approved model…</p>
            </li>
          )}
          {risk.phase === 'computing' && (
            <li className="chat-msg assistant" data-testid="risk-computing">
              <p className="loading">Working out your estimate on this device…</p>
            </li>
          )}
        </ol>
        {asking && <RiskChoices question={risk.question!} onReply={(t) => void ask(t)} onStop={() => risk.stop()} />}
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
          placeholder={
            asking
              ? risk.question!.kind === 'number'
                ? `Type a number ${rangeText(risk.question!)}`
                : 'Press an answer above, or type it'
              : 'Ask a question, for example: what is a normal blood pressure?'
          }
          onChange={(e) => setDraft(e.target.value.slice(0, MAX_MESSAGE_LENGTH))}
          onKeyDown={onKeyDown}
          aria-describedby="chat-input-help"
        />
        <div className="chat-form-row">
          <span id="chat-input-help" className={`small ${left < 50 ? 'chat-count-low' : 'muted'}`} aria-live="polite">
            {left} characters left
          </span>
          <button type="submit" className="button primary" disabled={!draft.trim() || busy || (risk.active && !asking)} data-testid="chat-send">
            {asking ? 'Answer' : 'Send'}
          </button>
        </div>
        <p className="muted small chat-privacy">
          {risk.active
            ? 'Your risk-check answers stay on this device: the estimate is worked out in your browser and nothing you type here is sent anywhere.'
            : history.signedIn
              ? 'You are signed in: your questions and the answers are kept in your account until you delete them. Risk-check answers never are.'
              : 'Without an account, this conversation stays in this browser tab only and is gone when you close it.'}
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
  if (entry.role === 'risk')
    return (
      <li className="chat-msg assistant" data-testid="chat-message" data-role="assistant">
        <RiskStepView step={entry.step} />
      </li>
    );
  if (entry.role === 'notice')
    return (
      <li className="chat-msg assistant" data-testid="chat-message" data-role="notice">
        <div className="chat-reply notice" role="status" data-testid="chat-notice">
          <p>{entry.text}</p>
        </div>
      </li>
    );
  if (entry.role === 'saved')
    return (
      <li className="chat-msg assistant" data-testid="chat-message" data-role="assistant">
        <SavedReplyView text={entry.text} citations={entry.citations} />
      </li>
    );
  return (
    <li className="chat-msg assistant" data-testid="chat-message" data-role="assistant">
      <ReplyView reply={entry.reply} />
    </li>
  );
}

