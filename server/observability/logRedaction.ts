import type { LoggerOptions } from 'pino';

/** What a redacted value reads as in the log, on stdout and in the console's live view alike. */
export const REDACTED = '[redacted]';

/**
 * Field names whose values never reach the log: credentials (passwords, tokens, cookies,
 * authorisation headers, invite codes, the signing secret) and patient text (chat questions,
 * answers, messages to a language model). Today's log calls already leave these out (the chat logs
 * only an error's name and code); this list keeps a future `log.info({ body })` from leaking them.
 * `code` alone is not here: error codes (`update refused`, `code: 'norm_bound'`) are useful and public.
 */
const SECRET_KEYS = [
  'password',
  'newPassword',
  'currentPassword',
  'passwordHash',
  'token',
  'accessToken',
  'refreshToken',
  'access',
  'refresh',
  'csrf',
  'secret',
  'signingKey',
  'apiToken',
  'cookie',
  'authorization',
  'inviteCode',
  'question',
  'answer',
  'reply',
  'prompt',
  'messages',
  'chatMessage',
] as const;

/** Whole objects that carry credentials or text in several of their fields. */
const SECRET_PATHS = [
  'headers.cookie',
  'headers.authorization',
  'headers["set-cookie"]',
  'headers["x-csrf-token"]',
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'invite.code',
  'chat.message',
  'chat.text',
  'conversation.messages',
] as const;

/**
 * pino's `redact` paths: each key at the top level and one level down (`{ user: { password } }`),
 * plus the nested paths above. pino's wildcards match one level only; deeper secrets would need a
 * path of their own here.
 */
export const redactPaths: readonly string[] = [...SECRET_KEYS.flatMap((k) => [k, `*.${k}`]), ...SECRET_PATHS];

/** The options every server logger is built with: its level, no pid or hostname, and the redaction above. */
export function loggerOptions(level: LoggerOptions['level'] = 'info'): LoggerOptions {
  return { level, base: undefined, redact: { paths: [...redactPaths], censor: REDACTED } };
}
