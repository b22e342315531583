// ESLint flat config: the TypeScript sources of every package (`npm run lint:eslint`).
// Syntax-only rules (no type information): a run over the whole tree takes seconds on 2 cores;
// type-aware linting (recommendedTypeChecked) costs ~35 s and 1.3 GB here.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Code a generator writes (protobuf bindings): never hand-edited, so never linted. Keep in step with .prettierignore and .dependency-cruiser.cjs. */
const GENERATED = ['plugins/api-grpc/src/generated/**', '**/*.pb.ts', '**/*_pb.ts'];

export default defineConfig(
  {
    // Only the .ts sources: build output, dependencies, generated code and plain JS (bin stubs, these configs) are not linted.
    ignores: ['**/node_modules/**', '**/dist/**', 'coverage/**', ...GENERATED, '**/*.js', '**/*.cjs', '**/*.mjs'],
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'max-lines': ['error', { max: 600, skipBlankLines: true, skipComments: true }],
      // Beyond the recommended sets: habits the code already keeps.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-throw-literal': 'error',
      // Type-only imports say so (`import type`, `type X`): what esbuild/tsx and isolatedModules rely on.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
    },
  },
);
