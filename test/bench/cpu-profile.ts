/** One frame of a V8 CPU profile (`node --cpu-prof` writes them as a `.cpuprofile` JSON file). */
export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

export interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

/** The `.cpuprofile` format: a call tree, and which node each sample hit with µs between samples. */
export interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

/** A named part of the program, recognised by its frames (first match in a list wins). */
export interface ProfileArea {
  readonly name: string;
  readonly matches: (frame: CallFrame) => boolean;
}

const byUrl = (name: string, pattern: RegExp): ProfileArea => ({ name, matches: (f) => pattern.test(f.url) });
const byName = (name: string, functionName: string): ProfileArea => ({ name, matches: (f) => f.functionName === functionName && f.url === '' });

/**
 * Cairn's areas. A frame that matches none (node's streams, timers and net, native functions such
 * as writev, code protobufjs generates at run time) is charged to the nearest caller that does, so
 * `writev` under grpc-js counts as gRPC and under the TCP transport as transport.
 */
export const CAIRN_AREAS: readonly ProfileArea[] = [
  byName('idle', '(idle)'),
  byName('GC', '(garbage collector)'),
  byName('V8/native (unattributed)', '(program)'),
  byUrl(
    'startup (module loading, config schema, .proto loading)',
    /^node:internal\/(modules|bootstrap|deps\/cjs-module-lexer|process\/pre_execution)\b|\/node_modules\/(ajv|fast-uri|yaml|@grpc\/proto-loader)\//,
  ),
  byUrl(
    'grpc/protobuf (api-grpc, grpc-js, protobufjs, http2)',
    /\/plugins\/api-[a-z]+\/|\/node_modules\/(@grpc\/grpc-js|protobufjs|@protobufjs\/[^/]+|long)\/|^node:internal\/http2\//,
  ),
  byUrl('raft', /\/core\/(dist\/)?src\/raft\//),
  byUrl('mvcc/backend (mvcc, lease)', /\/core\/(dist\/)?src\/(mvcc|lease)\//),
  byUrl(
    'storage (storage plugins, lmdb, msgpackr)',
    /\/plugins\/storage-[a-z]+\/|\/node_modules\/(lmdb|msgpackr|ordered-binary|weak-lru-cache|classic-level|abstract-level)\//,
  ),
  byUrl('transport (peer transport plugins)', /\/plugins\/transport-[a-z]+\//),
  byUrl('core: services, cluster, assembly, other', /\/core\/(dist\/)?src\//),
  byUrl('logging (pino)', /\/node_modules\/(pino|sonic-boom|thread-stream)\//),
  byUrl('other libraries', /\/node_modules\//),
];

/** Where a frame with no area of its own and no caller that has one goes. */
export const RUNTIME_AREA = 'node runtime (event loop, streams, timers; no caller in an area)';

export interface FunctionTime {
  readonly functionName: string;
  /** url:line (1-based), or "(native)" for frames without a script. */
  readonly location: string;
  readonly area: string;
  readonly selfMs: number;
}

export interface ProfileSummary {
  /** The time the counted samples cover (the whole profile, or the window). */
  readonly spanMs: number;
  readonly samples: number;
  readonly idleMs: number;
  /** Time per area (callers' areas for frames without one), largest first. */
  readonly areas: readonly { readonly name: string; readonly ms: number }[];
  /** Self time per function, largest first. */
  readonly functions: readonly FunctionTime[];
  /** Self time per script URL, largest first. */
  readonly files: readonly { readonly url: string; readonly selfMs: number }[];
}

/** A part of the profile, in ms since it began (e.g. the load phase without startup). */
export interface ProfileWindow {
  readonly fromMs?: number;
  readonly toMs?: number;
}

/** Self time (ms) of each node id within the window, and how many samples fell in it. */
function selfTimes(profile: CpuProfile, window: ProfileWindow): { self: Map<number, number>; samples: number } {
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length > 0 && deltas.length === samples.length) {
    const from = profile.startTime + (window.fromMs ?? 0) * 1000;
    const to = window.toMs === undefined ? Infinity : profile.startTime + window.toMs * 1000;
    let at = profile.startTime;
    const stamps = deltas.map((d) => (at += d));
    let counted = 0;
    for (let i = 0; i < samples.length; i++) {
      if (stamps[i]! < from || stamps[i]! >= to) continue;
      // Each sample counts the time until the next one.
      const until = i + 1 < stamps.length ? stamps[i + 1]! : Math.max(profile.endTime, stamps[i]!);
      self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + (until - stamps[i]!) / 1000);
      counted++;
    }
    return { self, samples: counted };
  }
  if (window.fromMs !== undefined || window.toMs !== undefined) throw new Error('this profile has no sample times: it cannot be cut to a window');
  // Without per-sample times, spread the span evenly over the hit counts.
  const hits = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
  const perHit = hits === 0 ? 0 : (profile.endTime - profile.startTime) / 1000 / hits;
  for (const node of profile.nodes) if (node.hitCount) self.set(node.id, node.hitCount * perHit);
  return { self, samples: hits };
}

const location = (f: CallFrame): string => (f.url === '' ? '(native)' : `${f.url.replace(/^file:\/\//, '')}:${f.lineNumber + 1}`);

/** Self time per function, per file and per area (see CAIRN_AREAS for how frames are charged). */
export function summarizeCpuProfile(profile: CpuProfile, window: ProfileWindow = {}, areas: readonly ProfileArea[] = CAIRN_AREAS): ProfileSummary {
  const { self, samples } = selfTimes(profile, window);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const ownArea = (f: CallFrame): string | undefined => areas.find((a) => a.matches(f))?.name;

  // A node's area: its own, else its caller's, resolved from the root down.
  const areaOf = new Map<number, string | undefined>();
  const resolveArea = (id: number): string | undefined => {
    if (areaOf.has(id)) return areaOf.get(id);
    const node = byId.get(id)!;
    const parent = parentOf.get(id);
    const area = ownArea(node.callFrame) ?? (parent === undefined ? undefined : resolveArea(parent));
    areaOf.set(id, area);
    return area;
  };

  const areaMs = new Map<string, number>();
  const functionMs = new Map<string, FunctionTime>();
  const fileMs = new Map<string, number>();
  let samplesMs = 0;
  let idleMs = 0;
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (node === undefined) continue;
    samplesMs += ms;
    const f = node.callFrame;
    if (f.functionName === '(idle)') idleMs += ms;
    const area = resolveArea(id) ?? RUNTIME_AREA;
    areaMs.set(area, (areaMs.get(area) ?? 0) + ms);
    // The area is part of the key: writev under grpc-js and under the transport are two rows.
    const key = `${f.functionName}\u0000${f.url}\u0000${f.lineNumber}\u0000${f.columnNumber}\u0000${area}`;
    const prev = functionMs.get(key);
    functionMs.set(key, { functionName: f.functionName || '(anonymous)', location: location(f), area, selfMs: (prev?.selfMs ?? 0) + ms });
    const url = f.url === '' ? '(native or VM)' : f.url.replace(/^file:\/\//, '');
    fileMs.set(url, (fileMs.get(url) ?? 0) + ms);
  }
  return {
    spanMs: samplesMs,
    samples,
    idleMs,
    areas: [...areaMs].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms),
    functions: [...functionMs.values()].sort((a, b) => b.selfMs - a.selfMs),
    files: [...fileMs].map(([url, selfMs]) => ({ url, selfMs })).sort((a, b) => b.selfMs - a.selfMs),
  };
}

/** The summary as a terminal table: areas, then the top functions and files by self time. */
export function formatProfileSummary(s: ProfileSummary, top = 25, repoRoot = ''): string {
  const busy = s.spanMs - s.idleMs;
  const pct = (ms: number, of: number): string => (of > 0 ? `${((ms / of) * 100).toFixed(1)}%` : '-').padStart(7);
  const msText = (ms: number): string => ms.toFixed(0).padStart(8);
  const short = (text: string): string => (repoRoot !== '' && text.startsWith(repoRoot) ? text.slice(repoRoot.length) : text);
  const width = Math.max(...s.areas.map((a) => a.name.length), 'area'.length);
  const lines = [
    `${(s.spanMs / 1000).toFixed(1)} s profiled in ${s.samples} samples; busy (not idle) ${(busy / 1000).toFixed(1)} s = ${pct(busy, s.spanMs).trim()}`,
    '',
    `${'area'.padEnd(width)}  ${'ms'.padStart(8)}  ${'of all'.padStart(7)}  ${'of busy'.padStart(7)}`,
    ...s.areas.map((a) => `${a.name.padEnd(width)}  ${msText(a.ms)}  ${pct(a.ms, s.spanMs)}  ${a.name === 'idle' ? '       ' : pct(a.ms, busy)}`),
    '',
    `top ${top} functions by self time (of busy time; idle left out)`,
    ...s.functions
      .filter((f) => f.functionName !== '(idle)')
      .slice(0, top)
      .map((f) => `${msText(f.selfMs)}  ${pct(f.selfMs, busy)}  ${f.functionName}  ${short(f.location)}  [${f.area}]`),
    '',
    `top ${top} files by self time (of busy time)`,
    ...s.files
      .filter((f) => f.url !== '(native or VM)')
      .slice(0, top)
      .map((f) => `${msText(f.selfMs)}  ${pct(f.selfMs, busy)}  ${short(f.url)}`),
  ];
  return lines.join('\n');
}
