import { z } from 'zod';
import { studyIdSchema } from './schemas';

/** pino's levels, lowest first; a line's level is one of these. */
export const logLevelNames = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevelName = (typeof logLevelNames)[number];

/** The levels an admin may ask for as the least severe line shown. */
export const logViewLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogViewLevel = (typeof logViewLevels)[number];

/** One line of the server's log, as the admin console's live view shows it (already redacted by the logger). */
export interface LogLine {
  /** Increases by one per line this server process logged: orders lines and drops duplicates. */
  seq: number;
  /** When it was logged (ms since the epoch). */
  time: number;
  level: LogLevelName;
  msg: string;
  /** The study the line is about, when it names one. */
  studyId?: string;
  /** The site the line is about: named by the line, or the site of the participant it names. */
  siteId?: string;
  /** Every other field of the line (round, version, reason…); an error as its type and message. */
  fields: Record<string, unknown>;
}

export const logSubscriptionIdSchema = z.string().min(1).max(64);

export const logSubscribeSchema = z.object({
  /** Chosen by the client; live lines come back tagged with it. */
  subscription: logSubscriptionIdSchema,
  /** A study's log, or null for the whole server's (every study and the lines of none). */
  studyId: studyIdSchema.nullable(),
  minLevel: z.enum(logViewLevels).default('info'),
  /** Only the lines about this site. */
  siteId: z.string().min(1).max(64).optional(),
  /** The most recent kept lines to send first (at most this many of the last hour's). */
  limit: z.number().int().min(1).max(1000).default(500),
});
export type LogSubscribeRequest = z.input<typeof logSubscribeSchema>;
export type LogSubscription = z.infer<typeof logSubscribeSchema>;

export const logUnsubscribeSchema = z.object({ subscription: logSubscriptionIdSchema });
export type LogUnsubscribeRequest = z.infer<typeof logUnsubscribeSchema>;

/** The answer to a subscription: the kept lines that pass its filters, oldest first. */
export interface LogBacklog {
  lines: LogLine[];
  /** How long the server keeps lines (ms), to say so in the view. */
  keptMs: number;
}

/** A live line for one of this socket's subscriptions. */
export interface LogLineEvent {
  subscription: string;
  line: LogLine;
}
