/** Where a progress bar draws: the command's stderr (a Node WriteStream is one). */
export interface ProgressStream {
  /** Only a terminal gets a bar; a pipe, a file or a CI log stays quiet. */
  readonly isTTY?: boolean;
  /** The terminal's width, when known. */
  readonly columns?: number;
  write(chunk: string): unknown;
}

/** What a long operation reports its progress to. */
export interface Progress {
  /** A new phase: `total` units to go (bytes when `unit` is 'bytes'), or unknown. */
  phase(label: string, total?: number, unit?: string): void;
  /** `done` units of the current phase are done. */
  update(done: number): void;
  /** The phase is over: the bar ends its line. */
  finish(): void;
}

/** Redraws at most this often, so a tight loop does not spend its time drawing. */
const REDRAW_MS = 100;
const BAR_WIDTH = 30;

const MIB = 1024 * 1024;

/** A progress that draws nothing (stderr is not a terminal). */
export const QUIET_PROGRESS: Progress = { phase: () => undefined, update: () => undefined, finish: () => undefined };

/** A bar on `stream` when it is a terminal; quiet otherwise, so logs and pipes get no control characters. */
export function progressOn(stream: ProgressStream | undefined, now: () => number = Date.now): Progress {
  return stream?.isTTY === true ? new TerminalProgressBar(stream, now) : QUIET_PROGRESS;
}

/** One line per phase, redrawn in place with a carriage return: `label [#####-----]  50% 12.0/24.0 MiB`. */
export class TerminalProgressBar implements Progress {
  private label = '';
  private total: number | undefined;
  private unit = '';
  private done = 0;
  private drawnAt = -Infinity;
  private active = false;
  private width = 0;

  constructor(
    private readonly stream: ProgressStream,
    private readonly now: () => number = Date.now,
  ) {}

  phase(label: string, total?: number, unit = ''): void {
    if (this.active) this.finish();
    this.label = label;
    this.total = total !== undefined && total > 0 ? total : undefined;
    this.unit = unit;
    this.done = 0;
    this.active = true;
    this.drawnAt = -Infinity;
    this.draw();
  }

  update(done: number): void {
    if (!this.active) return;
    this.done = done;
    if (this.now() - this.drawnAt >= REDRAW_MS) this.draw();
  }

  finish(): void {
    if (!this.active) return;
    if (this.total !== undefined) this.done = this.total;
    this.draw();
    this.stream.write('\n');
    this.active = false;
    this.width = 0;
  }

  private draw(): void {
    this.drawnAt = this.now();
    let line = `${this.label} `;
    if (this.total !== undefined) {
      const fraction = Math.min(1, this.done / this.total);
      const filled = Math.round(fraction * BAR_WIDTH);
      line += `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${this.amount(this.done)}/${this.amount(this.total)}`;
    } else {
      line += this.amount(this.done);
    }
    // A terminal of unknown size (a pseudo-terminal nobody sized) says 0 columns.
    const columns = this.stream.columns !== undefined && this.stream.columns >= 20 ? this.stream.columns : 80;
    if (line.length > columns - 1) line = line.slice(0, Math.max(0, columns - 1));
    // Pad over what a longer previous draw left on the line.
    const padded = line.padEnd(this.width);
    this.width = line.length;
    this.stream.write(`\r${padded}`);
  }

  private amount(n: number): string {
    if (this.unit === 'bytes') return `${(n / MIB).toFixed(1)} MiB`;
    return this.unit === '' ? String(n) : `${n} ${this.unit}`;
  }
}
