// @ts-check
import tseslint from 'typescript-eslint';

const nodeOnly = [
  'node:*',
  'fs',
  'path',
  'os',
  'crypto',
  'worker_threads',
  'child_process',
  'better-sqlite3',
  'zstd-napi',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench-work/**', 'test-artifacts/**', 'bin/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // shared/ runs in the renderer and in the offline verifier: no Node, no Electron.
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...nodeOnly, 'electron', '../main/*', '../renderer/*'] }],
    },
  },
  {
    // The engine never imports electron; only main/electron/ (the shell) may.
    files: ['main/**/*.ts'],
    ignores: ['main/electron/**'],
    rules: { 'no-restricted-imports': ['error', { paths: ['electron'] }] },
  },
  {
    files: ['main/cli/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
