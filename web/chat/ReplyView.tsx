import { Fragment } from 'react';
import { Link } from 'react-router';
import { DISCLAIMER, excerptBlocks, type ChatReply, type Citation, type Excerpt } from '../../shared/chat';
import type { StoredCitation } from '../../shared/protocol/chat';

/** A quote, with list items shown as a list, the way the article shows them. */
function Quote({ excerpt }: { excerpt: Excerpt }) {
  const groups: { list: boolean; items: string[] }[] = [];
  for (const b of excerptBlocks(excerpt)) {
    const last = groups[groups.length - 1];
    if (b.listItem && last?.list) last.items.push(b.text);
    else groups.push({ list: b.listItem, items: [b.text] });
  }
  return (
    <blockquote className="chat-quote" cite={`/chat/articles/${excerpt.slug}`}>
      {groups.map((g, i) =>
        g.list ? (
          <ul key={i}>
            {g.items.map((s, j) => (
              <li key={j}>{s}</li>
            ))}
          </ul>
        ) : (
          <p key={i}>{g.items[0]}</p>
        ),
      )}
    </blockquote>
  );
}

export function ReplyView({ reply }: { reply: ChatReply }) {
  switch (reply.kind) {
    case 'emergency':
      return (
        <div className="chat-reply emergency" role="alert" data-testid="chat-reply" data-kind="emergency">
          <p className="chat-urgent-title">
            <UrgentIcon /> {reply.title}
          </p>
          <ul>
            {reply.lines.map((l, i) => (
              <li key={i}>{l}</li>
            ))}
          </ul>
          {reply.crisisLines.length > 0 && (
            <>
              <p className="chat-crisis-head">Talk to someone now, free and confidential:</p>
              <ul>
                {reply.crisisLines.map((l, i) => (
                  <li key={i}>{l}</li>
                ))}
              </ul>
            </>
          )}
          <p className="chat-disclaimer">{reply.disclaimer}</p>
        </div>
      );
    case 'dosing':
      return (
        <div className="chat-reply dosing" data-testid="chat-reply" data-kind="dosing">
          <p>{reply.text.replace(reply.disclaimer, '').trim()}</p>
          <p className="chat-disclaimer">{reply.disclaimer}</p>
        </div>
      );
    case 'cant-answer':
      return (
        <div className="chat-reply cant-answer" data-testid="chat-reply" data-kind="cant-answer">
          <p>{reply.text.split('\n')[0]}</p>
          <p>{reply.hint}</p>
          <ul className="chat-topics">
            {reply.topics.map((t) => (
              <li key={t.slug}>
                <Link to={t.href}>{t.title}</Link>
              </li>
            ))}
          </ul>
          <p className="chat-disclaimer">{reply.disclaimer}</p>
        </div>
      );
    case 'answer':
      return (
        <div className="chat-reply answer" data-testid="chat-reply" data-kind="answer" data-source={reply.generated ? 'llm' : 'retrieval'}>
          {reply.generated ? (
            <>
              {/* Plain text, never HTML: the model's words are shown, not interpreted. */}
              {reply.generated.body.split(/\n{2,}/).map((para, i) => (
                <p key={i} className="chat-generated">
                  {para}
                </p>
              ))}
              <p className="muted small">Written by a language model from the articles below only. Check them for the full picture.</p>
            </>
          ) : null}
          {!reply.generated && reply.excerpts.map((e, i) => (
            <Fragment key={i}>
              <p className="chat-source">
                From <cite>{e.title}</cite>
                {e.heading !== e.title && <span className="muted"> · {e.heading}</span>}
              </p>
              <Quote excerpt={e} />
            </Fragment>
          ))}
          <div className="chat-citations">
            <span>Read the whole article:</span>
            <ul>
              {reply.citations.map((c: Citation) => (
                <li key={c.slug}>
                  <Link to={c.href} data-testid="chat-citation">
                    {c.title}
                  </Link>{' '}
                  <span className="muted small">(reviewed {formatDate(c.reviewed)}; follows {c.guidance.join(', ')})</span>
                </li>
              ))}
            </ul>
          </div>
          <p className="chat-disclaimer">{reply.disclaimer}</p>
        </div>
      );
  }
}

/** An answer reopened from a signed-in patient's stored chats: its text as it was given, and its articles. */
export function SavedReplyView({ text, citations }: { text: string; citations: StoredCitation[] }) {
  const [body] = text.split('\n\nRead more:\n');
  const shown = body.endsWith(DISCLAIMER) ? body.slice(0, -DISCLAIMER.length).trim() : body;
  return (
    <div className="chat-reply saved" data-testid="chat-reply" data-kind="saved">
      <p className="chat-stream-text">{shown}</p>
      {citations.length > 0 && (
        <div className="chat-citations">
          <span>Read the whole article:</span>
          <ul>
            {citations.map((c) => (
              <li key={c.slug}>
                <Link to={`/chat/articles/${c.slug}`} data-testid="chat-citation">
                  {c.title}
                </Link>
              </li>
            ))}
          </ul>
        </div>
      )}
      <p className="chat-disclaimer">{DISCLAIMER}</p>
    </div>
  );
}

export function formatDate(iso: string): string {
  const d = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
}

function UrgentIcon() {
  return (
    <svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true" className="chat-urgent-icon">
      <path d="M12 2 1 21h22L12 2Zm0 6 1 7h-2l1-7Zm0 9.5a1.25 1.25 0 1 1 0 2.5 1.25 1.25 0 0 1 0-2.5Z" fill="currentColor" fillRule="evenodd" />
    </svg>
  );
}
