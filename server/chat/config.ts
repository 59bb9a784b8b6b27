import type { LlmConfig } from './llm';

/** The chat's settings, from the environment (CHAT_* and LLM_* in server/config.ts). */
export interface ChatConfig {
  /** Messages a day per signed-in patient, or per address for anonymous patients (UTC days). */
  dailyLimit: number;
  /** The optional language model; absent means retrieval answers only, fully offline. */
  llm?: LlmConfig;
}

export const DEFAULT_CHAT_CONFIG: ChatConfig = { dailyLimit: 200 };

export interface ChatEnv {
  CHAT_DAILY_LIMIT: number;
  LLM_BASE_URL?: string;
  LLM_MODEL?: string;
  LLM_API_KEY?: string;
  LLM_TIMEOUT_MS: number;
  LLM_FIRST_TOKEN_TIMEOUT_MS: number;
}

/** Returns the chat's config, or the reason the LLM variables do not fit together. */
export function chatConfigFromEnv(e: ChatEnv): ChatConfig | string {
  if (!!e.LLM_BASE_URL !== !!e.LLM_MODEL) return 'LLM_BASE_URL and LLM_MODEL go together (LLM_API_KEY too, where the endpoint wants one)';
  if (e.LLM_API_KEY && !e.LLM_BASE_URL) return 'LLM_API_KEY needs LLM_BASE_URL and LLM_MODEL';
  return {
    dailyLimit: e.CHAT_DAILY_LIMIT,
    llm:
      e.LLM_BASE_URL && e.LLM_MODEL
        ? {
            baseUrl: e.LLM_BASE_URL.replace(/\/+$/, ''),
            model: e.LLM_MODEL,
            apiKey: e.LLM_API_KEY,
            timeoutMs: e.LLM_TIMEOUT_MS,
            firstTokenTimeoutMs: Math.min(e.LLM_FIRST_TOKEN_TIMEOUT_MS, e.LLM_TIMEOUT_MS),
          }
        : undefined,
  };
}
