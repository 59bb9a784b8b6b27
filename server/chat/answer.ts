import type { Logger } from 'pino';
import { DISCLAIMER, respond, type ChatReply, type KnowledgeBase } from '../../shared/chat';
import type { AnswerSource } from '../../shared/protocol/chat';
import { LlmError, streamChatCompletion, type LlmConfig } from './llm';
import { buildMessages, groundingPassages, mentionsDose } from './prompt';

export interface AnswerDeps {
  kb: KnowledgeBase;
  llm?: LlmConfig;
  /** Pause between streamed chunks of a retrieval answer, so it reads (and renders) like the model's; 0 in tests. */
  streamDelayMs: number;
  log?: Logger;
}

export interface AnswerSink {
  delta(text: string, reset?: boolean): void;
  /** Aborts when the patient has gone (socket closed): the model's request is cancelled with it. */
  signal: AbortSignal;
}

export interface Answered {
  reply: ChatReply;
  source: AnswerSource;
}

/** Words per streamed chunk of a retrieval answer. */
const WORDS_PER_CHUNK = 3;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** Streams fixed text a few words at a time (whitespace kept, so the pieces join back exactly). */
export async function streamText(text: string, sink: AnswerSink, delayMs: number): Promise<void> {
  const pieces = text.match(/\S+\s*|\s+/g) ?? [];
  for (let i = 0; i < pieces.length && !sink.signal.aborted; i += WORDS_PER_CHUNK) {
    if (i > 0) await sleep(delayMs, sink.signal);
    sink.delta(pieces.slice(i, i + WORDS_PER_CHUNK).join(''));
  }
}

function refs(reply: Extract<ChatReply, { kind: 'answer' }>): string {
  return reply.citations.map((c) => `- ${c.title}: ${c.href}`).join('\n');
}

/**
 * Answers one message, streaming it into `sink`. The safety order is respond()'s: an emergency gets the
 * fixed urgent answer at once (nothing streamed, no model), a dosing question the fixed pointer, a weak
 * match "I can't answer that"; only a retrieval answer may be rewritten by the language model, from the
 * passages retrieval found, keeping retrieval's citations. Any failure of the model (HTTP error, bad
 * stream, time-out, a dose in its text) falls back to the retrieval answer, streamed after a reset.
 */
export async function answerMessage(deps: AnswerDeps, message: string, sink: AnswerSink): Promise<Answered> {
  const reply = respond(deps.kb, message);
  if (reply.kind === 'emergency') return { reply, source: 'retrieval' };
  if (reply.kind === 'answer' && deps.llm) {
    let streamed = false;
    try {
      const passages = groundingPassages(deps.kb, message, reply);
      const body = await streamChatCompletion(
        deps.llm,
        buildMessages(message, passages),
        (token) => {
          streamed = true;
          sink.delta(token);
        },
        sink.signal,
      );
      if (mentionsDose(body)) throw new LlmError('malformed', 'the language model wrote a dose; its answer was withheld');
      const trimmed = body.trim();
      return {
        reply: { ...reply, generated: { model: deps.llm.model, body: trimmed }, text: `${trimmed}\n\nRead more:\n${refs(reply)}\n\n${DISCLAIMER}` },
        source: 'llm',
      };
    } catch (err) {
      const reason = err instanceof LlmError ? err.reason : 'internal';
      // The error's message is ours and never quotes the patient; the patient's message is not logged.
      if (reason !== 'aborted') deps.log?.warn({ reason, err: (err as Error).message }, 'language model answer not used; retrieval answer instead');
      if (streamed) sink.delta('', true);
    }
  }
  await streamText(reply.text, sink, deps.streamDelayMs);
  return { reply, source: 'retrieval' };
}
