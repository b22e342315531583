import { execFile } from 'node:child_process';

/** What the real curl binary got: the status, the headers (names lower-cased) and the body. */
export interface CurlAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** `curl -sS -i [args] url` with the real curl; rejects when curl itself fails (no connection...). */
export function curl(url: string, args: readonly string[] = []): Promise<CurlAnswer> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '-i', '--max-time', '30', ...args, url], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err !== null) {
        reject(new Error(`curl ${url} failed: ${stderr || err.message}`));
        return;
      }
      const split = stdout.indexOf('\r\n\r\n');
      const head = split < 0 ? stdout : stdout.slice(0, split);
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: split < 0 ? '' : stdout.slice(split + 4) });
    });
  });
}

/** A Prometheus text exposition as series → value (`name{labels}` exactly as printed). */
export function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** The sum over every series of `name` whose labels include each of `labels` (e.g. `grpc_method="Put"`). */
export function metricSum(metrics: ReadonlyMap<string, number>, name: string, labels: readonly string[] = []): number {
  let sum = 0;
  for (const [series, value] of metrics) {
    const bare = series.indexOf('{') < 0 ? series : series.slice(0, series.indexOf('{'));
    if (bare === name && labels.every((l) => series.includes(l))) sum += value;
  }
  return sum;
}

/** The `# HELP` and `# TYPE` lines of metric `name` in a scrape. */
export function metricHeader(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`# HELP ${name} `) || l.startsWith(`# TYPE ${name} `));
}
