import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config';

describe('the chat\'s configuration', () => {
  it('defaults to 200 messages a day and no language model', () => {
    expect(loadConfig({}).chat).toEqual({ dailyLimit: 200, llm: undefined });
  });

  it('reads the language model endpoint, with a key optional (Ollama needs none) and the time-outs', () => {
    expect(loadConfig({ LLM_BASE_URL: 'http://127.0.0.1:11434/v1/', LLM_MODEL: 'llama3.2', CHAT_DAILY_LIMIT: '50' }).chat).toEqual({
      dailyLimit: 50,
      llm: { baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama3.2', apiKey: undefined, timeoutMs: 20_000, firstTokenTimeoutMs: 10_000 },
    });
    expect(loadConfig({ LLM_BASE_URL: 'https://api.groq.com/openai/v1', LLM_MODEL: 'm', LLM_API_KEY: 'k', LLM_TIMEOUT_MS: '5000' }).chat.llm).toMatchObject({
      apiKey: 'k',
      timeoutMs: 5000,
      firstTokenTimeoutMs: 5000,
    });
  });

  it('refuses half a language model configuration and bad values, naming the variable', () => {
    expect(() => loadConfig({ LLM_BASE_URL: 'http://127.0.0.1:11434/v1' })).toThrow(/LLM_BASE_URL and LLM_MODEL go together/);
    expect(() => loadConfig({ LLM_API_KEY: 'k' })).toThrow(/LLM_API_KEY needs/);
    expect(() => loadConfig({ LLM_BASE_URL: 'localhost:11434', LLM_MODEL: 'm' })).toThrow(/LLM_BASE_URL/);
    expect(() => loadConfig({ CHAT_DAILY_LIMIT: '0' })).toThrow(/CHAT_DAILY_LIMIT/);
  });
});
