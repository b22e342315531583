// The arrows of DESIGN.md §2, checked by `npm run lint` (depcruise):
// - core/src: folders are layers; a folder imports only from folders below it, never upward and
//   never a folder of its own level;
// - no module-level cycle in core/src; no production file imports core/src/testkit;
// - the core never imports a plugin; a plugin, adapter or example imports the core only as
//   `@cairn/core` (and `@cairn/core/testkit` in its tests) and no other package of the repository.

/** core/src, high to low. Folders on one line are one level: they must not import each other. */
const LAYERS = [
  ['testkit'],
  ['assembly'],
  ['services'],
  ['apply'],
  ['auth', 'lease', 'alarm', 'cluster'],
  ['mvcc'],
  ['etcd-snapshot'],
  ['raft'],
  ['memory', 'tls'], // tls: TLS for the client and peer ports from etcd's flags (imports ports and below)
  ['ports'],
  ['etcd-wire'], // etcd's wire format for the API frontends: imports only api
  ['api', 'protocol'], // leaves: they import nothing of core
];
/** Generated code (protobuf bindings): never hand-edited, not checked. */
const GENERATED = ['^plugins/api-grpc/src/generated/', '\\.pb\\.ts$', '_pb\\.ts$'];

const folders = (list) => `^core/src/(${list.join('|')})/`;
const KNOWN = LAYERS.flat();

/**
 * One rule per level below the testkit (which may import anything): its folders import no folder of
 * their level or above (their own folder aside), nor core/src/index.ts.
 */
const layerRules = LAYERS.slice(1).map((level, i) => {
  const below = LAYERS.slice(i + 2).flat();
  return {
    name: `layer-${level.join('-')}`,
    comment: `core/src/{${level.join(',')}} ${below.length ? `may import only ${below.join(', ')}` : 'imports nothing of core'} (DESIGN.md §2)`,
    severity: 'error',
    from: { path: folders(level) },
    to: { path: ['^core/src/index\\.ts$', folders(LAYERS.slice(0, i + 2).flat())], pathNot: '^core/src/$1/' },
  };
});

/** Where the core's two entry points resolve (the `source` export condition of core/package.json). */
const CORE_ENTRY_POINTS = '^core/src/(testkit/)?index\\.ts$';

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'core-folder-not-in-layers',
      comment: 'Every folder of core/src is a layer (add a new one to LAYERS here and to DESIGN.md §2); index.ts is the only file beside them.',
      severity: 'error',
      from: { path: '^core/src/', pathNot: [folders(KNOWN), '^core/src/index\\.ts$'] },
      to: { path: '^core/src/' },
    },
    {
      name: 'no-production-to-testkit',
      comment: 'The testkit is for tests: no file of core/src outside it imports it (index.ts neither: that is @cairn/core/testkit).',
      severity: 'error',
      from: { path: '^core/src/', pathNot: folders(['testkit']) },
      to: { path: folders(['testkit']) },
    },
    {
      name: 'no-circular-in-core',
      comment: 'No import cycle between modules of core/src (type-only imports included).',
      severity: 'error',
      from: { path: '^core/src/' },
      to: { circular: true },
    },
    {
      name: 'core-not-to-plugins',
      comment: 'The core never imports a plugin, adapter, example or system test: they plug into it through the config.',
      severity: 'error',
      from: { path: '^core/' },
      to: { path: ['^(plugins|adapters|examples|test)/', '^@cairn/(?!core(/|$))'] },
    },
    {
      name: 'package-to-core-internals',
      comment: 'Outside core, import the core as `@cairn/core` or `@cairn/core/testkit`, never a path inside core/src or core/dist.',
      severity: 'error',
      from: { path: '^(plugins|adapters|examples)/' },
      to: { path: '^core/', pathNot: CORE_ENTRY_POINTS },
    },
    {
      name: 'package-to-core-by-path',
      comment: 'Outside core, import the core by its package name (`@cairn/core`), not by a relative path.',
      severity: 'error',
      from: { path: '^(plugins|adapters|examples)/' },
      to: { path: '^core/', dependencyTypesNot: ['aliased-workspace'] },
    },
    {
      name: 'production-to-core-testkit',
      comment: 'A package takes `@cairn/core/testkit` only in its tests (test/, bench/), never in src/.',
      severity: 'error',
      from: { path: '^(plugins|adapters|examples)/[^/]+/src/' },
      to: { path: folders(['testkit']) },
    },
    {
      name: 'package-to-other-package',
      comment: 'Plugins do not import each other, nor adapters or examples: a member combines them through its config.',
      severity: 'error',
      from: { path: '^plugins/([^/]+)/' },
      to: { path: ['^(plugins|adapters|examples)/', '^@cairn/(?!core(/|$))'], pathNot: '^plugins/$1/' },
    },
    {
      name: 'adapter-to-other-package',
      comment: 'An adapter builds on the core and on the client (adapters/client), never on a plugin, an example or another adapter.',
      severity: 'error',
      from: { path: '^adapters/([^/]+)/' },
      to: { path: ['^(plugins|examples)/', '^adapters/(?!client/)', '^@cairn/(?!(core|client)(/|$))'], pathNot: '^adapters/$1/' },
    },
    {
      name: 'example-to-other-package',
      comment: 'An example uses the core and the adapters (the client, embed) as a user would, never a plugin or another example by import.',
      severity: 'error',
      from: { path: '^examples/([^/]+)/' },
      to: { path: ['^(plugins|examples)/', '^@cairn/(?!(core|client|embed)(/|$))'], pathNot: '^examples/$1/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve (a typo, a deep path a package does not export, a missing dependency).',
      severity: 'error',
      // core/bin/cairn.js runs the build output, which does not exist before `tsc -b`.
      from: { path: '^(core|plugins|adapters|examples|test)/', pathNot: '^core/bin/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    exclude: { path: ['(^|/)node_modules/', ...GENERATED] },
    // Build output is not cruised, but an import of it stays visible (and breaks package-to-core-internals).
    doNotFollow: { path: ['(^|/)node_modules/', '(^|/)dist/'] },
    // Type-only imports are arrows too: a layer must not name the types of one above it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    // Read the root package.json too, so an import of a workspace package is known as one (aliased-workspace).
    combinedDependencies: true,
    enhancedResolveOptions: {
      // `@cairn/core` resolves through core/package.json's exports to core/src (the `source` condition).
      exportsFields: ['exports'],
      conditionNames: ['source', 'types', 'import', 'node', 'default'],
      mainFields: ['types', 'module', 'main'],
      extensions: ['.ts', '.d.ts', '.js', '.json'],
    },
    skipAnalysisNotInRules: true,
  },
};
