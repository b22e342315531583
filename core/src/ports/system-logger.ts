import { pino, type Logger as PinoLogger } from 'pino';
import type { LogFields, Logger } from './logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** JSON lines on stderr through pino: what an operator's log pipeline expects. */
export class SystemLogger implements Logger {
  private readonly pino: PinoLogger;

  constructor(level: LogLevel = 'info', base?: PinoLogger) {
    this.pino = base ?? pino({ level, base: undefined }, pino.destination({ fd: 2, sync: true }));
  }

  debug(fields: LogFields, message: string): void {
    this.pino.debug(fields, message);
  }

  info(fields: LogFields, message: string): void {
    this.pino.info(fields, message);
  }

  warn(fields: LogFields, message: string): void {
    this.pino.warn(fields, message);
  }

  error(fields: LogFields, message: string): void {
    this.pino.error(fields, message);
  }

  child(fields: LogFields): Logger {
    return new SystemLogger('info', this.pino.child(fields));
  }
}
