import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { z } from 'zod';

/** pino's levels, most to least severe; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** `auto`: pretty on a terminal, JSON lines when stdout is a pipe or a file. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const logLevelSchema = z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join('|')}` });
export const logFormatSchema = z.enum(LOG_FORMATS, { message: `must be one of ${LOG_FORMATS.join('|')}` });

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go (default stdout); `auto` asks whether this is a TTY. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; fd?: number };
  /** Colours in pretty output (default: when the stream is a TTY and NO_COLOR is unset). */
  colorize?: boolean;
}

/** The format `auto` resolves to for this stream. */
export function effectiveLogFormat(format: LogFormat, stream: { isTTY?: boolean } = process.stdout): 'json' | 'pretty' {
  if (format !== 'auto') return format;
  return stream.isTTY === true ? 'pretty' : 'json';
}

/**
 * The one place a process logger is made: JSON lines (one object per line, pino's fields) or pino-pretty's
 * `HH:MM:ss.l LEVEL (role/netuid): message key=value…` for people. Pretty output is written synchronously
 * so the last lines before an exit are not lost.
 */
export function createLogger(o: LoggerOptions = {}): Logger {
  const level = o.level ?? 'info';
  const stream = o.stream ?? process.stdout;
  if (effectiveLogFormat(o.format ?? 'auto', stream) === 'json') {
    return o.stream ? pino({ level }, o.stream) : pino({ level });
  }
  const colorize = o.colorize ?? (stream.isTTY === true && process.env.NO_COLOR === undefined);
  const out = pretty({
    destination: stream,
    sync: true,
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,role,netuid,mechid',
    messageFormat: (log, messageKey) => {
      const who = [log.role, log.netuid !== undefined ? `sn${String(log.netuid)}` : undefined, log.mechid !== undefined ? `m${String(log.mechid)}` : undefined].filter(Boolean).join('/');
      return `${who ? `[${who}] ` : ''}${String(log[messageKey] ?? '')}`;
    },
  });
  return pino({ level }, out);
}

/** LOG_LEVEL / LOG_FORMAT from the environment (library defaults when no logger is passed in); bad values fall back. */
export function loggerFromEnv(env: NodeJS.ProcessEnv = process.env): Logger {
  const level = logLevelSchema.safeParse(env.LOG_LEVEL ?? 'info');
  const format = logFormatSchema.safeParse(env.LOG_FORMAT ?? 'auto');
  return createLogger({ level: level.success ? level.data : 'info', format: format.success ? format.data : 'auto' });
}
