import { pino, type Logger as PinoLogger } from 'pino';
import type { LogFields, Logger } from './logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Lines of one pino root with this logger's bindings merged into each call's fields. Not pino's
 * own child(): pino writes child bindings and call fields side by side, so a key in both (or in two
 * nested children) appeared twice in one JSON line. Here each key appears once; call fields win,
 * then the innermost child's bindings.
 */
class BoundLogger implements Logger {
  private readonly hasBindings: boolean;

  protected constructor(
    private readonly root: PinoLogger,
    private readonly bindings: LogFields,
  ) {
    this.hasBindings = Object.keys(bindings).length > 0;
  }

  debug(fields: LogFields, message: string): void {
    this.write('debug', fields, message);
  }

  info(fields: LogFields, message: string): void {
    this.write('info', fields, message);
  }

  warn(fields: LogFields, message: string): void {
    this.write('warn', fields, message);
  }

  error(fields: LogFields, message: string): void {
    this.write('error', fields, message);
  }

  child(fields: LogFields): Logger {
    return new BoundLogger(this.root, { ...this.bindings, ...fields });
  }

  private write(level: LogLevel, fields: LogFields, message: string): void {
    // Skip the merge for lines the level filters out anyway.
    if (!this.root.isLevelEnabled(level)) return;
    this.root[level](this.hasBindings ? { ...this.bindings, ...fields } : fields, message);
  }
}

/** JSON lines on stderr through pino: what an operator's log pipeline expects. */
export class SystemLogger extends BoundLogger {
  /** `destination` defaults to stderr, written synchronously so no line is lost at exit. */
  constructor(level: LogLevel = 'info', destination: pino.DestinationStream = pino.destination({ fd: 2, sync: true })) {
    super(pino({ level, base: undefined }, destination), {});
  }
}
