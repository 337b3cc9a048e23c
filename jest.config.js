// Two projects: `unit` runs beside the code with no services; `e2e` drives real Postgres, Redis,
// the development OIDC provider and the compiled API and worker processes (built by `npm run build`).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      keepClassNames: true,
      target: 'es2023',
    },
    module: { type: 'commonjs' },
  },
];
// ESM-only packages are compiled to CommonJS for jest's module system.
const esm = [
  '@secretlint',
  'jose',
  'openid-client',
  'oauth4webapi',
  'canonicalize',
  '@renovatebot/pep440',
  // Nest 12 is ESM: unit tests of services (with plain fakes) load its decorators.
  '@nestjs',
  // make-fetch-happen's proxy agents, loaded by @sigstore/sign (test/support/sigstore.ts).
  'agent-base',
  'proxy-agent-negotiate',
  'http-proxy-agent',
  'https-proxy-agent',
  'socks-proxy-agent',
];
const transformIgnorePatterns = [`/node_modules/(?!(${esm.join('|')})/)`];

module.exports = {
  testTimeout: 60000,
  // e2e files start their own API and worker processes: one file at a time on a 2-core machine.
  maxWorkers: 1,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/libs', '<rootDir>/apps'],
      testMatch: ['**/*.spec.ts'],
      transform: { '^.+\\.(t|j)s$': swc },
      transformIgnorePatterns,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      transform: { '^.+\\.(t|j)s$': swc },
      transformIgnorePatterns,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
