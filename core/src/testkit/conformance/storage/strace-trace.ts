/**
 * The output of `strace -f -y -o FILE` read back as system calls. strace serialises what it
 * prints, so the line numbers give one total order of events: a call printed on one line entered
 * and exited there; a call interrupted by another thread's event is printed as
 * `name(args <unfinished ...>` and later `<... name resumed>rest`, entering at the first line and
 * exiting at the second.
 */
export interface TraceCall {
  readonly pid: number;
  readonly name: string;
  /** The arguments as printed (with -y, every fd argument is followed by <its path>). */
  readonly args: string;
  /** The return value as printed: `0`, `93`, `0x7f...`, `20</path>`, `-1 ENOENT (...)`, `?`. */
  readonly result: string;
  /** Line numbers (0-based) where the call entered and exited. */
  readonly enter: number;
  readonly exit: number;
  /** The call as one line, for messages. */
  readonly text: string;
}

const UNFINISHED = ' <unfinished ...>';

function parseCall(pid: number, text: string, enter: number, exit: number): TraceCall | undefined {
  const open = text.indexOf('(');
  if (open <= 0) return undefined;
  const name = text.slice(0, open);
  if (!/^[a-z_0-9]+$/.test(name)) return undefined;
  // The last ") = " ends the arguments (strace pads it to a column with spaces): quoted data may
  // hold ") = " too, but the result comes last.
  let close: RegExpExecArray | undefined;
  for (const m of text.matchAll(/\) +=(?: |$)/g)) close = m;
  if (close === undefined || close.index < open) return { pid, name, args: text.slice(open + 1).replace(/\)\s*$/, ''), result: '?', enter, exit, text };
  return { pid, name, args: text.slice(open + 1, close.index), result: text.slice(close.index + close[0].length).trim(), enter, exit, text };
}

export function parseStraceOutput(output: string): TraceCall[] {
  const calls: TraceCall[] = [];
  const pending = new Map<number, { head: string; line: number }>();
  const lines = output.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const m = /^(\d+)\s+(.*)$/.exec(lines[n]!);
    if (m === null) continue;
    const pid = Number(m[1]);
    const rest = m[2]!;
    if (rest.startsWith('---') || rest.startsWith('+++')) continue;
    const resumed = /^<\.\.\. ([a-z_0-9]+) resumed>(.*)$/.exec(rest);
    if (resumed !== null) {
      const head = pending.get(pid);
      pending.delete(pid);
      if (head === undefined) continue;
      const call = parseCall(pid, head.head + resumed[2]!, head.line, n);
      if (call !== undefined) calls.push(call);
      continue;
    }
    if (rest.endsWith(UNFINISHED)) {
      pending.set(pid, { head: rest.slice(0, -UNFINISHED.length), line: n });
      continue;
    }
    const call = parseCall(pid, rest, n, n);
    if (call !== undefined) calls.push(call);
  }
  return calls.sort((a, b) => a.exit - b.exit);
}

/** The fd and its path at the start of `args` (`20</tmp/x/000003.log>, ...`). */
export function leadingFd(args: string): { fd: number; path: string } | undefined {
  const m = /^(\d+)<([^>]*)>/.exec(args);
  return m === null ? undefined : { fd: Number(m[1]), path: m[2]!.replace(/ \(deleted\)$/, '') };
}

/** The quoted strings among `args`, unescaped as far as file names need. */
export function quotedStrings(args: string): string[] {
  const out: string[] = [];
  for (const m of args.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    out.push(
      m[1]!.replace(/\\(x[0-9a-f]{2}|[0-7]{1,3}|.)/g, (_all, esc: string) => {
        if (esc.startsWith('x')) return String.fromCharCode(parseInt(esc.slice(1), 16));
        if (/^[0-7]+$/.test(esc)) return String.fromCharCode(parseInt(esc, 8));
        return ({ n: '\n', t: '\t', r: '\r', v: '\v', f: '\f' } as Record<string, string>)[esc] ?? esc;
      }),
    );
  }
  return out;
}

/** The value of a successful call (`0`, `93`, `0x7f..`, `20</path>` give 0, 93, ...); undefined for errors and `?`. */
export function resultValue(result: string): bigint | undefined {
  const m = /^(0x[0-9a-f]+|\d+)/.exec(result);
  return m === null ? undefined : BigInt(m[1]!);
}

/** The path -y prints after a returned fd (`20</tmp/x/y>`). */
export function resultPath(result: string): string | undefined {
  const m = /^\d+<([^>]*)>/.exec(result);
  return m === null ? undefined : m[1]!.replace(/ \(deleted\)$/, '');
}
