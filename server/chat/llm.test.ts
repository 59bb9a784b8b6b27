import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from './fakeLlm';
import { LlmError, streamChatCompletion, type LlmConfig } from './llm';
import { SseParser } from './sse';

describe('the SSE reader', () => {
  it('joins lines split across reads, CRLF split in two included, and skips comments and other fields', () => {
    const p = new SseParser();
    const out = [...p.push(': hi\r'), ...p.push('\nevent: x\r\ndata: {"a"'), ...p.push(':1}\r'), ...p.push('\n\r\ndata: one\ndata: two\n\n'), ...p.push('data: [DONE]')];
    expect(out).toEqual(['{"a":1}', 'one\ntwo']);
    expect(p.end()).toEqual(['[DONE]']);
  });
});

describe('streaming from an OpenAI-compatible endpoint', () => {
  let llm: FakeLlm;
  let cfg: LlmConfig;
  beforeAll(async () => {
    llm = await startFakeLlm();
    // Generous by default (slow CI); the time-out cases set their own short ones.
    cfg = { baseUrl: llm.baseUrl, model: 'test-model', apiKey: 'sk-test', timeoutMs: 15_000, firstTokenTimeoutMs: 10_000 };
  });
  afterAll(() => llm.close());

  const run = (c = cfg) => {
    const tokens: string[] = [];
    return { tokens, done: streamChatCompletion(c, [{ role: 'user', content: 'What is LDL?' }], (t) => tokens.push(t)) };
  };

  it('hands over each token in order and resolves with the whole text; sends the model, stream: true and the key', async () => {
    llm.behave({ kind: 'stream', chunks: ['LDL ', 'is ', 'the ', '"bad" ', 'cholesterol.'], delayMs: 5 });
    const { tokens, done } = run();
    expect(await done).toBe('LDL is the "bad" cholesterol.');
    expect(tokens).toEqual(['LDL ', 'is ', 'the ', '"bad" ', 'cholesterol.']);
    const req = llm.requests.at(-1)!;
    expect(req.body).toMatchObject({ model: 'test-model', stream: true, messages: [{ role: 'user', content: 'What is LDL?' }] });
    expect(req.headers.authorization).toBe('Bearer sk-test');
    // Nothing but the messages: no user id, no address.
    expect(Object.keys(req.body).sort()).toEqual(['max_tokens', 'messages', 'model', 'stream', 'temperature']);
  });

  it('sends no Authorization header when no key is configured (Ollama, llama.cpp)', async () => {
    llm.behave({ kind: 'stream', chunks: ['ok'] });
    await run({ ...cfg, apiKey: undefined }).done;
    expect(llm.requests.at(-1)!.headers.authorization).toBeUndefined();
  });

  it('fails with the reason on an HTTP error, a stall, a garbage stream, an early end and an empty answer', async () => {
    const reason = async (c = cfg) => {
      try {
        await run(c).done;
        return 'resolved';
      } catch (e) {
        expect(e).toBeInstanceOf(LlmError);
        return (e as LlmError).reason;
      }
    };
    llm.behave({ kind: 'status', status: 500 });
    expect(await reason()).toBe('http');
    llm.behave({ kind: 'stall' });
    const t0 = Date.now();
    expect(await reason({ ...cfg, firstTokenTimeoutMs: 500 })).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(5_000);
    // The first token came, then nothing: the total time-out ends it.
    llm.behave({ kind: 'stall', afterChunks: ['Partly'] });
    expect(await reason({ ...cfg, timeoutMs: 800 })).toBe('timeout');
    llm.behave({ kind: 'raw', body: '<html>502 Bad Gateway</html>\n' });
    expect(await reason()).toBe('malformed');
    llm.behave({ kind: 'raw', body: 'data: {not json\n\n' });
    expect(await reason()).toBe('malformed');
    llm.behave({ kind: 'raw', body: `data: ${JSON.stringify({ choices: [{ delta: { content: 'cut' } }] })}\n\n` });
    expect(await reason()).toBe('malformed');
    llm.behave({ kind: 'stream', chunks: [] });
    expect(await reason()).toBe('empty');
    expect(await reason({ ...cfg, baseUrl: 'http://127.0.0.1:1/v1' })).toBe('network');
  });

  it('stops when the asker goes away', async () => {
    llm.behave({ kind: 'stall', afterChunks: ['Partly'] });
    const ctrl = new AbortController();
    const p = streamChatCompletion(cfg, [{ role: 'user', content: 'x' }], () => ctrl.abort(), ctrl.signal);
    await expect(p).rejects.toMatchObject({ reason: 'aborted' });
  });
});
