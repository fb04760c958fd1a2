// Lint, plus the dependency direction of docs/ARCHITECTURE.md: core <- app <- adapters <- main.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (names) => names.flatMap((n) => [`**/${n}/**`, `../${n}/*`, `../../${n}/*`, `../../../${n}/*`]);
const adapters = ['storage', 'http', 'cli', 'web'];
const NODE_IO = ['node:*', 'fs', 'fs/*', 'http', 'https', 'net', 'child_process', 'os', 'path', 'crypto', 'process'];

/** No import of `names` (layers) nor of `packages`, with the reason in the message. */
const restrict = (names, message, packages = []) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        { group: layer(names), message },
        ...(packages.length ? [{ group: packages, message: 'core is pure: no I/O, drivers or frameworks here.' }] : []),
      ],
    },
  ],
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'dist/**', 'coverage/**', '.bench/**', 'src/adapters/web/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Only src/config reads the environment.' }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      ...restrict(['app', 'adapters', 'config', 'main', ...adapters], 'core imports no app, adapter, config or main code.', [
        ...NODE_IO, 'better-sqlite3', 'pg', 'kysely', 'fastify', '@fastify/*', 'commander',
      ]),
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'core takes time as a parameter (Clock).' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'core takes time as a parameter (Clock).' },
        { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'core takes randomness as a parameter (Rng).' },
      ],
    },
  },
  { files: ['src/app/**/*.ts'], rules: restrict(['adapters', 'config', 'main', ...adapters], 'app imports no adapter, config or main code.') },
  ...adapters.map((a) => ({
    files: [`src/adapters/${a}/**/*.ts`],
    rules: restrict([...adapters.filter((x) => x !== a), 'main', 'config'], `adapters do not import each other, config or main (the ${a} adapter gets what it needs from main).`),
  })),
  { files: ['src/config/**/*.ts'], rules: { ...restrict(['app', 'adapters', 'main', ...adapters], 'config imports only core.'), 'no-restricted-properties': 'off' } },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'bin/**/*.mjs', 'scripts/**/*.mjs', '*.config.*'],
    rules: { 'no-restricted-properties': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
  { files: ['bin/**/*.mjs', 'scripts/**/*.mjs', 'eslint.config.js'], languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } } },
);
