import pino, { type DestinationStream, type Level, type Logger } from 'pino';
import type { LogHub } from './logHub';
import { loggerOptions } from './logRedaction';

export interface ServerLoggerOptions {
  level: Level | 'silent';
  /** Keeps the lines for the admin console's live view. */
  hub: LogHub;
  /** Where the JSON lines go besides the hub (default stdout). */
  stdout?: DestinationStream;
}

/** The server's logger: redacted JSON lines to stdout and, the same lines, to the console's log hub. */
export function createServerLogger(opts: ServerLoggerOptions): Logger {
  const streams = pino.multistream([
    { level: opts.level, stream: opts.stdout ?? pino.destination(1) },
    { level: opts.level, stream: opts.hub },
  ]);
  return pino(loggerOptions(opts.level), streams);
}
