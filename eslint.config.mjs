import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

// Import specifiers the layering forbids (see the blocks below).
const databaseImports = {
  group: ['typeorm', 'typeorm/**', '@nestjs/typeorm', 'pg', 'pg/**', 'pg-*'],
  message: 'The database is reached through libs/core (its repositories are the only door).',
};
// Inside libs/core, only repositories (and the promotion state machine, the promotions' writer)
// hold the DataSource: services get transactions from a repository's unit of work and may pass
// its EntityManager along, never open a connection, a query runner or a driver of their own.
const coreDatabaseImports = {
  paths: [
    {
      name: 'typeorm',
      importNames: ['DataSource', 'Repository', 'QueryRunner'],
      message: 'Only repositories touch the database: add the query to the concept’s repository.',
    },
  ],
  patterns: [
    {
      group: ['@nestjs/typeorm', 'pg', 'pg/**', 'pg-*'],
      message: 'Only repositories touch the database: add the query to the concept’s repository.',
    },
  ],
};
const frameworkImports = {
  group: [
    '@nestjs/*',
    'typeorm',
    'typeorm/**',
    'bullmq',
    'ioredis',
    'pg',
    'pg/**',
    'pg-*',
    'fastify',
    '@fastify/*',
  ],
  message: 'libs/domain is plain TypeScript: no framework, no database, no queue.',
};
const ioImports = {
  group: [
    ...[
      'fs',
      'fs/**',
      'net',
      'http',
      'https',
      'http2',
      'child_process',
      'dgram',
      'dns',
      'dns/**',
      'tls',
      'cluster',
    ],
    ...['worker_threads', 'readline', 'inspector'],
  ].flatMap((m) => [m, `node:${m}`]),
  message: 'libs/domain does no I/O: take the data as an argument.',
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.tools/**',
      '.data/**',
      'coverage/**',
      '*.js',
      '*.mjs',
      // Generated from docs/openapi.json by npm run openapi.
      'apps/cli/api-schema.d.ts',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    // Relative imports name TypeScript files without an extension: resolve them as TypeScript
    // does, or the import rules (no-cycle, no-restricted-paths) would see nothing.
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json', '.node'] })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      'import-x/no-cycle': ['error', { maxDepth: 10 }],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration through libs/config (validated once at boot).',
        },
      ],
    },
  },
  {
    // The layering of docs/architecture.md, as rules: apps → core → domain; the other libraries
    // sit beside core and never reach into it or into an app.
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './libs',
              from: './apps',
              message: 'A library never imports an app (docs/architecture.md).',
            },
            {
              target: ['./libs/!(core)/**'],
              from: './libs/core',
              message:
                'Only apps import libs/core; the other libraries sit beside it (docs/architecture.md).',
            },
            {
              target: './libs/domain',
              from: './libs/!(domain)/**',
              message: 'libs/domain is the bottom layer: plain TypeScript that imports no other library.',
            },
            {
              target: './apps/cli',
              from: './libs/core',
              message: 'The CLI is a thin client of the REST API: it never loads the server (libs/core).',
            },
          ],
        },
      ],
    },
  },
  {
    // libs/domain is plain TypeScript: no framework, no I/O (its tests may read fixtures).
    files: ['libs/domain/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [frameworkImports, ioImports] }],
      'no-restricted-globals': [
        'error',
        ...['fetch', 'WebSocket', 'XMLHttpRequest'].map((name) => ({
          name,
          message: 'libs/domain does no I/O: take the data as an argument.',
        })),
      ],
    },
  },
  {
    // Repositories in libs/core are the only door to the database: apps and the other libraries
    // reach it through core's services. apps/devstack creates and drops development databases.
    files: ['apps/**/*.ts', 'libs/!(core|domain)/**/*.ts'],
    ignores: ['apps/devstack/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [databaseImports] }] },
  },
  {
    // Inside libs/core the door is narrower still: services, checks and workers reach the
    // database through repositories (docs/architecture.md).
    files: ['libs/core/**/*.ts'],
    ignores: [
      '**/*.repository.ts',
      '**/*.entity.ts',
      '**/*.spec.ts',
      'libs/core/database/**',
      'libs/core/testing/**',
    ],
    rules: { 'no-restricted-imports': ['error', coreDatabaseImports] },
  },
  {
    // Programs that are not the Airlock server: the CLI, dev tooling, tests and benchmarks.
    files: ['apps/devstack/**', 'apps/dev-oidc/main.ts', 'apps/cli/**', 'test/**', 'bench/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
