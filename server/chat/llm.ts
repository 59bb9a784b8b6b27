import { SseParser } from './sse';

/** An OpenAI-compatible chat-completions endpoint (Groq, Ollama, vLLM, llama.cpp's server...). */
export interface LlmConfig {
  /** Up to the version, e.g. http://127.0.0.1:11434/v1; `/chat/completions` is appended. */
  baseUrl: string;
  model: string;
  /** Sent as a Bearer token when set; local servers (Ollama, llama.cpp) need none. */
  apiKey?: string;
  /** The whole answer must have streamed within this. */
  timeoutMs: number;
  /** The first token must have arrived within this. */
  firstTokenTimeoutMs: number;
  maxTokens?: number;
}

export type LlmFailure = 'http' | 'network' | 'malformed' | 'timeout' | 'empty' | 'aborted';

/** Why the model's answer could not be used. Its message never contains the patient's words. */
export class LlmError extends Error {
  override name = 'LlmError';
  constructor(
    readonly reason: LlmFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface LlmMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

const chunkShape = (v: unknown): { content?: string; finished: boolean; error?: string } | null => {
  if (!v || typeof v !== 'object') return null;
  const o = v as { choices?: unknown; error?: unknown };
  if (o.error) return { finished: false, error: typeof o.error === 'object' && o.error && 'message' in o.error ? String((o.error as { message: unknown }).message) : 'error' };
  if (!Array.isArray(o.choices)) return null;
  const choice = (o.choices[0] ?? {}) as { delta?: { content?: unknown }; finish_reason?: unknown };
  const content = choice.delta?.content;
  if (content !== undefined && content !== null && typeof content !== 'string') return null;
  return { content: content ?? undefined, finished: typeof choice.finish_reason === 'string' };
};

/**
 * Streams one chat completion (`stream: true`), calling `onToken` with each piece of content in order,
 * and resolves with the whole text. Rejects with an LlmError on an HTTP error, a network failure, a
 * stream that is not the expected SSE (or ends before `[DONE]` or a finish reason), an empty answer, a
 * first token later than `firstTokenTimeoutMs` or an answer longer than `timeoutMs`, or when `signal`
 * aborts. Only `messages` is sent: no user id, no address.
 */
export async function streamChatCompletion(cfg: LlmConfig, messages: LlmMessage[], onToken: (text: string) => void, signal?: AbortSignal): Promise<string> {
  const ctrl = new AbortController();
  let timedOut: string | null = null;
  const timeout = (why: string) => () => {
    timedOut = why;
    ctrl.abort();
  };
  const total = setTimeout(timeout(`the language model did not finish within ${cfg.timeoutMs} ms`), cfg.timeoutMs);
  let first: ReturnType<typeof setTimeout> | undefined = setTimeout(timeout(`no first token from the language model within ${cfg.firstTokenTimeoutMs} ms`), cfg.firstTokenTimeoutMs);
  const onAbort = () => ctrl.abort();
  if (signal?.aborted) ctrl.abort();
  signal?.addEventListener('abort', onAbort, { once: true });

  const failure = (err: unknown): LlmError => {
    if (err instanceof LlmError) return err;
    if (timedOut) return new LlmError('timeout', timedOut);
    if (signal?.aborted) return new LlmError('aborted', 'the question was withdrawn');
    return new LlmError('network', `cannot reach the language model (${(err as Error)?.message ?? 'unknown error'})`);
  };

  try {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'text/event-stream' };
    if (cfg.apiKey) headers.Authorization = `Bearer ${cfg.apiKey}`;
    const res = await fetch(`${cfg.baseUrl}/chat/completions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: cfg.model, messages, stream: true, temperature: 0.2, max_tokens: cfg.maxTokens ?? 500 }),
      signal: ctrl.signal,
    });
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new LlmError('http', `the language model answered HTTP ${res.status}`);
    }
    if (!res.body) throw new LlmError('malformed', 'the language model sent no body');

    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    let text = '';
    let done = false;
    let finished = false;
    const take = (events: string[]) => {
      for (const data of events) {
        if (done) return;
        if (data.trim() === '[DONE]') {
          done = true;
          return;
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(data);
        } catch {
          throw new LlmError('malformed', 'the language model sent an event that is not JSON');
        }
        const chunk = chunkShape(parsed);
        if (!chunk) throw new LlmError('malformed', 'the language model sent an event that is not a chat-completion chunk');
        if (chunk.error) throw new LlmError('http', `the language model reported an error mid-stream: ${chunk.error.slice(0, 200)}`);
        if (chunk.content) {
          if (first) {
            clearTimeout(first);
            first = undefined;
          }
          text += chunk.content;
          onToken(chunk.content);
        }
        if (chunk.finished) finished = true;
      }
    };
    try {
      while (!done) {
        const { value, done: eof } = await reader.read();
        if (eof) {
          take(parser.end());
          break;
        }
        take(parser.push(decoder.decode(value, { stream: true })));
      }
    } finally {
      if (!done) await reader.cancel().catch(() => {});
      else reader.releaseLock();
    }
    if (!done && !finished) throw new LlmError('malformed', 'the language model stream ended before [DONE]');
    if (!text.trim()) throw new LlmError('empty', 'the language model sent an empty answer');
    return text;
  } catch (err) {
    throw failure(err);
  } finally {
    clearTimeout(total);
    if (first) clearTimeout(first);
    signal?.removeEventListener('abort', onAbort);
    // Closes the connection if the stream was left early.
    ctrl.abort();
  }
}
