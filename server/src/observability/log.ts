import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';

export type Logger = PinoLogger;

/** log-format (config/options.ts): auto follows the terminal */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LogOptions {
  /** default auto */
  format?: string;
  /** log-file: JSON lines appended to this file instead of stdout */
  file?: string;
  /** is stdout a terminal (default: process.stdout.isTTY) */
  isTty?: boolean;
}

export interface LogSetup {
  logger: Logger;
  /**
   * the start is for a person at a terminal (log-format pretty, or auto on a terminal): main.ts
   * prints the banner with the addresses (welcome.ts) when this is true
   */
  human: boolean;
  /** reopen log-file (after logrotate moved it: SIGHUP, REHASH); nothing to do for stdout */
  reopen(): void;
}

/**
 * The server's logger (#16): JSON lines on stdout (one object per event; what journald, jq and log
 * collectors read), pretty lines (pino-pretty: time, level, message, the fields) when a person
 * watches a terminal, or JSON lines appended to log-file. One child per subsystem
 * (`log.child({ sub: 'session' })`).
 */
export function setupLogging(level: string, o: LogOptions = {}): LogSetup {
  const tty = o.isTty ?? process.stdout.isTTY === true;
  const format = (o.format ?? 'auto') as LogFormat;
  const human = format === 'pretty' || (format === 'auto' && tty);
  const opts = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  if (o.file !== undefined) {
    // synchronous like pino's stdout: nothing is lost when the process exits right after a line
    const dest = pino.destination({ dest: o.file, append: true, mkdir: true, sync: true });
    return { logger: pino(opts, dest), human, reopen: () => dest.reopen() };
  }
  if (!human) return { logger: pino(opts), human, reopen: () => {} };
  const stream: DestinationStream = pretty({
    colorize: tty, sync: true, destination: 1,
    translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true,
  });
  return { logger: pino(opts, stream), human, reopen: () => {} };
}

/** JSON lines on stdout (tests, tools); the server itself uses setupLogging. */
export function createLogger(level: string): Logger {
  return setupLogging(level, { format: 'json' }).logger;
}
