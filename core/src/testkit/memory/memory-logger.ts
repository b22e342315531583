import type { LogFields, Logger } from '../../ports/logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogLine {
  readonly time: number;
  readonly level: LogLevel;
  readonly fields: LogFields;
  readonly message: string;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface MemoryLoggerOptions {
  /** Lines below this level are not kept (default 'info'). */
  readonly level?: LogLevel;
  /** Keep only the newest this many lines (default 10,000). */
  readonly capacity?: number;
  /** Timestamps (the simulator passes its virtual clock). */
  readonly now?: () => number;
  /** Also hand each kept line here (e.g. to print it). */
  readonly sink?: (line: LogLine) => void;
}

/** A Logger that keeps the newest lines in memory, so a test or a failing seed can show them. */
export class MemoryLogger implements Logger {
  private readonly buffer: LogLine[];
  private readonly minRank: number;

  constructor(
    private readonly options: MemoryLoggerOptions = {},
    private readonly bound: LogFields = {},
    buffer?: LogLine[],
  ) {
    this.buffer = buffer ?? [];
    this.minRank = RANK[options.level ?? 'info'];
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
    return new MemoryLogger(this.options, { ...this.bound, ...fields }, this.buffer);
  }

  /** Kept lines, oldest first (shared by a logger and all its children). */
  lines(): readonly LogLine[] {
    return this.buffer;
  }

  /** Kept lines whose message is `message`. */
  find(message: string): LogLine[] {
    return this.buffer.filter((l) => l.message === message);
  }

  /** One line per entry, readable. */
  format(last = this.buffer.length): string[] {
    return this.buffer.slice(-last).map((l) => `${l.time} ${l.level} ${l.message} ${JSON.stringify(l.fields)}`);
  }

  private write(level: LogLevel, fields: LogFields, message: string): void {
    if (RANK[level] < this.minRank) return;
    const line: LogLine = { time: this.options.now?.() ?? Date.now(), level, fields: { ...this.bound, ...fields }, message };
    this.buffer.push(line);
    const capacity = this.options.capacity ?? 10_000;
    if (this.buffer.length > capacity) this.buffer.splice(0, this.buffer.length - capacity);
    this.options.sink?.(line);
  }
}
