import DOMPurify from 'dompurify';
import { marked } from 'marked';
import { useEffect, useMemo } from 'react';
import { Link, useParams } from 'react-router';
import { DISCLAIMER } from '../../shared/chat';
import { knowledgeBase } from './knowledgeBase';
import { formatDate } from './ReplyView';
import './chat.css';

/** One knowledge-base article, whole. The markdown is ours, but it is sanitised all the same. */
export function ArticlePage() {
  const { slug = '' } = useParams();
  const article = knowledgeBase().article(slug);
  const html = useMemo(() => (article ? DOMPurify.sanitize(marked.parse(article.body, { async: false })) : ''), [article]);

  useEffect(() => {
    document.title = `${article?.title ?? 'Article not found'} · Consilium`;
  }, [article]);

  if (!article)
    return (
      <section className="panel narrow">
        <h1>Article not found</h1>
        <p>
          There is no article at this address. <Link to="/chat">Back to the chat</Link>
        </p>
      </section>
    );

  return (
    <article className="kb-article panel" data-testid="kb-article">
      <p className="kb-back">
        <Link to="/chat">← Back to the chat</Link>
      </p>
      <p className="muted small kb-meta">
        Reviewed {formatDate(article.reviewed)} · Follows guidance from {article.guidance.join(', ')}
      </p>
      <div className="kb-body" dangerouslySetInnerHTML={{ __html: html }} />
      <p className="chat-disclaimer">{DISCLAIMER}</p>
    </article>
  );
}
