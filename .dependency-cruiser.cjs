/**
 * Import boundaries of mrl-server, checked by `npm run lint:deps` (dependency-cruiser).
 *
 * Layers, from the bottom: core (pure maths) → store, index, compute (native resources) →
 * search (the query path) → engine (vectors only) → ingest (the ingest thread: io's parsing, the
 * engine's validation and batch hooks) → data-context (opens SQLite, builds the
 * stores, hands them to the engine) → context (embeds text and image inputs through inputs/ and
 * encoders/ before the engine) → http / cli. train and report are offline tools that the server
 * never loads. Each rule says why it exists: when one fires, the comment tells whether the
 * import or the rule is wrong.
 *
 * Type-only imports count (tsPreCompilationDeps): a type import still ties a module to the
 * layer it names, and type cycles make files hard to move.
 */

/** The path pattern for the named folders of src/ and the top-level wiring files (context, data-context, server, cli). */
const layers = (...dirs) => `^src/(${dirs.join('|')})/|^src/(context|data-context|server|cli)\\.ts$`;

/** A rule that forbids imports from modules whose path matches `from` to those matching `to`. */
const forbid = (name, comment, from, to) => ({ name, comment, severity: 'error', from: { path: from }, to: { path: to } });

/** Everything that sits above the native-resource layer. */
const ABOVE_RESOURCES = layers('http', 'engine', 'search', 'inputs', 'eval', 'encoders', 'train', 'report', 'io', 'cli');

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle means neither module can be understood, tested or moved without the other.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    forbid(
      'core-is-pure',
      'core is the exact maths (prefixes, funnels, metrics): it must run and be tested without a database, an index, a model or a server.',
      '^src/core/',
      layers('http', 'store', 'encoders', 'train', 'eval', 'report', 'engine', 'search', 'inputs', 'index', 'compute', 'io', 'cli'),
    ),
    forbid(
      'core-no-native',
      'core must not load native or framework packages (SQLite, HNSW, TF.js, ONNX, fastify): that is what keeps it pure and fast to test.',
      '^src/core/',
      'node_modules/(better-sqlite3|hnswlib-node|@tensorflow|onnxruntime-node|fastify|@fastify)/',
    ),
    forbid(
      'resources-import-nothing-above',
      'store, index and compute own one native resource each; importing the layers that use them would make a cycle of ownership.',
      '^src/(store|index|compute)/',
      ABOVE_RESOURCES,
    ),
    forbid(
      'search-below-engine',
      'The query path (search/) reads core, compute, index and store types; the engine calls it, never the other way round.',
      '^src/search/',
      layers('http', 'engine', 'inputs', 'eval', 'encoders', 'train', 'report', 'io', 'cli'),
    ),
    forbid(
      'engine-takes-vectors',
      'Text and image inputs are embedded before the engine (src/inputs/, called through the context): the engine stores and searches vectors and loads no model.',
      '^src/engine/',
      layers('inputs', 'encoders', 'http', 'eval', 'train', 'report', 'io', 'cli'),
    ),
    {
      name: 'search-sees-store-types-only',
      comment: 'The query path reads rows through narrow interfaces; a value import of the store would let it open or write the database.',
      severity: 'error',
      from: { path: '^src/search/' },
      to: { path: '^src/store/', dependencyTypesNot: ['type-only'] },
    },
    forbid(
      'encoders-no-offline-code',
      'The server loads encoders; training, evaluation and the paper report are offline code it must not pull in through them.',
      '^src/encoders/',
      '^src/(train|eval|report)/',
    ),
    forbid(
      'http-through-the-engine',
      'Routes validate, call the engine and shape the reply; they reach the store, the index and the kernels only through it (types too: re-export what a route needs).',
      '^src/http/',
      '^src/(store|index|compute)/',
    ),
    {
      name: 'server-loads-no-offline-code',
      comment:
        'Training and the paper report (TF.js training loops, chart code) stay out of the running server: only the CLI train command and scripts/ load them.',
      severity: 'error',
      from: { path: '^src/server\\.ts$' },
      to: { path: '^src/(train|report)/', reachable: true },
    },
    {
      name: 'report-only-from-scripts',
      comment: 'The paper report is a script (scripts/paper.ts): nothing in src/ outside it may depend on it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/report/' },
      to: { path: '^src/report/' },
    },
    {
      name: 'gpu-code-behind-the-factory',
      comment: 'GPU-only code loads through the compute factory alone, so a CPU-only server never imports it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/compute/' },
      to: { path: '^src/compute/gpu/' },
    },
    forbid(
      'src-not-to-tests-or-tools',
      'The shipped code must not depend on tests, benchmarks or scripts, which the image does not carry.',
      '^src/',
      '^(test|bench|scripts)/',
    ),
    {
      name: 'src-not-to-dev-deps',
      comment: 'The image installs production dependencies only: a devDependency imported from src/ breaks there.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve fails at run time.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|data|models|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // NodeNext: sources import './x.js' for ./x.ts; dependency-cruiser maps that itself.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
