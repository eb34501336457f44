// Structured logs: one JSON object per line on stderr (pino), with the node in every line and
// the region in every line about a region. `format: 'pretty'` renders the same records as
// readable, coloured lines for a terminal (dev mode).

import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Logger as TransportLogger } from '../transport/logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type { Logger };

export interface LoggerOptions {
  /** This node's id, in every line. */
  readonly node: string;
  /** Default 'info'. */
  readonly level?: LogLevel;
  /** 'json' (default) or 'pretty'. */
  readonly format?: 'json' | 'pretty';
  /** Where lines go (default stderr, file descriptor 2). */
  readonly destination?: NodeJS.WritableStream;
}

export function createLogger(o: LoggerOptions): Logger {
  const opts = { level: o.level ?? 'info', base: { node: o.node }, timestamp: pino.stdTimeFunctions.isoTime };
  if (o.format === 'pretty') {
    return pino(opts, pretty({ colorize: true, sync: true, destination: o.destination ?? 2, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' }));
  }
  return pino(opts, o.destination ?? pino.destination({ dest: 2, sync: true }));
}

/** The transport's logger interface (msg first) on top of a process logger, lines tagged `component: transport`. */
export function transportLogger(logger: Logger): TransportLogger {
  const log = logger.child({ component: 'transport' });
  return {
    debug: (msg, fields) => log.debug(fields ?? {}, msg),
    info: (msg, fields) => log.info(fields ?? {}, msg),
    warn: (msg, fields) => log.warn(fields ?? {}, msg),
  };
}

/** A logger that drops everything (library default, tests). */
export const silentLogger: Logger = pino({ level: 'silent' });
