// Lint, plus the dependency direction of docs/ARCHITECTURE.md: core <- app <- adapters <- main,
// and `api` (the HTTP response types) beside them, importing nothing.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (names) => names.flatMap((n) => [`**/${n}/**`, `../${n}/*`, `../../${n}/*`, `../../../${n}/*`]);
const adapters = ['storage', 'http', 'cli', 'web', 'simclient'];
const NODE_IO = ['node:*', 'fs', 'fs/*', 'http', 'https', 'net', 'child_process', 'os', 'path', 'crypto', 'process'];
const DRIVERS_AND_FRAMEWORKS = ['better-sqlite3', 'pg', 'pg-cursor', 'kysely', 'fastify', '@fastify/*', 'commander'];

/**
 * No import of `names` (layers) nor of `packages` (a list of patterns, or `{ regex }`), with the
 * reasons in the messages.
 */
const restrict = (names, message, packages = [], packageMessage = 'core is pure: no I/O, drivers or frameworks here.') => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        ...(names.length ? [{ group: layer(names), message }] : []),
        ...(Array.isArray(packages)
          ? packages.length
            ? [{ group: packages, message: packageMessage }]
            : []
          : [{ ...packages, message: packageMessage }]),
      ],
    },
  ],
});
const ANY_IMPORT = { regex: '.' };
const ANY_PACKAGE = { regex: '^[^.]' };

/** In core, time, randomness and scheduling are parameters (Clock, Rng), reached neither directly nor through a global object. */
const CORE_GLOBALS = [
  ...[
    'performance',
    'crypto',
    'setTimeout',
    'setInterval',
    'setImmediate',
    'queueMicrotask',
    'clearTimeout',
    'clearInterval',
    'clearImmediate',
  ].map((name) => ({
    name,
    message: 'core takes time, randomness and scheduling as parameters (Clock, Rng); no timers, performance or crypto here.',
  })),
  { name: 'fetch', message: 'core is pure: no I/O here.' },
];
const CORE_SYNTAX = [
  { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'core takes time as a parameter (Clock).' },
  { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'core takes time as a parameter (Clock).' },
  {
    selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
    message: 'core takes randomness as a parameter (Rng).',
  },
  {
    selector: 'MemberExpression[object.name=/^(globalThis|global|window|self)$/]',
    message: 'core reaches no global through globalThis (Date.now, crypto, timers...): time and randomness are parameters (Clock, Rng).',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'dist/**', 'coverage/**', '.bench/**', 'src/adapters/web/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Only src/config reads the environment.' }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      ...restrict(['app', 'adapters', 'config', 'main', 'api', ...adapters], 'core imports no app, adapter, config, api or main code.', [
        ...NODE_IO,
        ...DRIVERS_AND_FRAMEWORKS,
      ]),
      'no-restricted-globals': ['error', ...CORE_GLOBALS],
      'no-restricted-syntax': ['error', ...CORE_SYNTAX],
    },
  },
  {
    files: ['src/app/**/*.ts'],
    rules: restrict(
      ['adapters', 'config', 'main', 'api', ...adapters],
      'app imports no adapter, config, api or main code.',
      [...DRIVERS_AND_FRAMEWORKS, 'fs', 'fs/*', 'node:fs', 'node:fs/*'],
      'app does I/O only through its ports (ports.ts): no database driver, HTTP or CLI framework, or file system here.',
    ),
  },
  // The HTTP response types: types only and self-contained, so that the browser SDK can import them.
  {
    files: ['src/api/**/*.ts'],
    rules: {
      ...restrict([], '', ANY_IMPORT, 'api imports nothing: it is the wire contract, types only.'),
      'no-restricted-syntax': [
        'error',
        {
          selector:
            ':matches(VariableDeclaration, FunctionDeclaration, ClassDeclaration, TSEnumDeclaration, ExpressionStatement, ExportDefaultDeclaration)',
          message: 'api holds types only (no runtime code): the browser SDK imports it.',
        },
      ],
    },
  },
  ...adapters.map((a) => ({
    files: [`src/adapters/${a}/**/*.ts`],
    rules: restrict(
      [...adapters.filter((x) => x !== a), 'main', 'config', ...(a === 'http' || a === 'web' || a === 'cli' ? [] : ['api'])],
      `adapters do not import each other, config or main (the ${a} adapter gets what it needs from main).`,
    ),
  })),
  // The browser SDK runs in a reader's browser: no Node module or global (tsconfig.browser.json gives it DOM types).
  {
    files: ['src/adapters/web/sdk/**/*.ts'],
    rules: {
      ...restrict(
        [...adapters.filter((x) => x !== 'web'), 'main', 'config', 'app', 'core'],
        'the browser SDK imports only src/api types.',
        ANY_PACKAGE,
        'the browser SDK is dependency-free and runs in a browser: no packages or Node modules.',
      ),
      'no-restricted-globals': [
        'error',
        ...['process', 'Buffer', 'require', 'global', '__dirname', '__filename', 'setImmediate'].map((name) => ({
          name,
          message: 'the browser SDK runs in a browser: no Node globals.',
        })),
      ],
    },
  },
  // The dashboard runs in an admin's browser (tsconfig.browser.json): Preact and uPlot, the admin API's
  // types (src/api, src/app, src/core type imports) and pure core code such as the ROI template; no Node.
  {
    files: ['src/adapters/web/dashboard/**/*.{ts,tsx}'],
    rules: {
      ...restrict(
        [...adapters.filter((x) => x !== 'web'), 'main', 'config'],
        'the dashboard calls the admin API; it imports no other adapter, config or main code.',
        { regex: '^(?!preact($|/)|uplot($|/)|\\.)' },
        'the dashboard bundles only preact and uplot.',
      ),
      'no-restricted-globals': [
        'error',
        ...['process', 'Buffer', 'require', 'global', '__dirname', '__filename', 'setImmediate'].map((name) => ({
          name,
          message: 'the dashboard runs in a browser: no Node globals.',
        })),
      ],
    },
  },
  {
    files: ['src/config/**/*.ts'],
    rules: { ...restrict(['app', 'adapters', 'main', 'api', ...adapters], 'config imports only core.'), 'no-restricted-properties': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'bin/**/*.mjs', 'scripts/**/*.mjs', '*.config.*'],
    rules: { 'no-restricted-properties': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['bin/**/*.mjs', 'scripts/**/*.mjs', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
