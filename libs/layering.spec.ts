import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * The layering of docs/architecture.md is enforced by eslint.config.mjs; these cases prove each
 * rule fires on a broken import and stays quiet on an allowed one (a rule that never fires passes
 * `npm run lint` just as well as one that holds).
 *
 * ESLint loads its flat config with a dynamic `import()`, which jest's module sandbox refuses, so
 * the cases are linted by ESLint's Node API in a child process, all in one go, with the
 * repository's config minus the type-aware rules (the snippets are not files a TypeScript program
 * could hold; the layering rules read only the import specifiers).
 */
const root = resolve(__dirname, '..');

interface Case {
  name: string;
  /** Where the snippet pretends to live: the rules are chosen by path. The file is not written. */
  filePath: string;
  code: string;
  /** The rules expected to report, or none. */
  rules: string[];
}

const RESTRICTED_PATHS = 'import-x/no-restricted-paths';
const RESTRICTED_IMPORTS = 'no-restricted-imports';

const cases: Case[] = [
  {
    name: 'a domain file importing typeorm',
    filePath: 'libs/domain/layering-case.ts',
    code: `import { DataSource } from 'typeorm';\nexport const used = DataSource;\n`,
    rules: [RESTRICTED_IMPORTS],
  },
  {
    name: 'a domain file importing Nest',
    filePath: 'libs/domain/layering-case.ts',
    code: `import { Injectable } from '@nestjs/common';\nexport const used = Injectable;\n`,
    rules: [RESTRICTED_IMPORTS],
  },
  {
    name: 'a domain file reading a file',
    filePath: 'libs/domain/layering-case.ts',
    code: `import { readFileSync } from 'node:fs';\nexport const used = readFileSync;\n`,
    rules: [RESTRICTED_IMPORTS],
  },
  {
    name: 'a domain file spawning a process',
    filePath: 'libs/domain/layering-case.ts',
    code: `import { execFile } from 'child_process';\nimport { readFile } from 'node:fs/promises';\nexport const used = [execFile, readFile];\n`,
    rules: [RESTRICTED_IMPORTS],
  },
  {
    name: 'a domain file importing a queue',
    filePath: 'libs/domain/layering-case.ts',
    code: `import { Queue } from 'bullmq';\nexport const used = Queue;\n`,
    rules: [RESTRICTED_IMPORTS],
  },
  {
    name: 'a domain file calling fetch',
    filePath: 'libs/domain/layering-case.ts',
    code: `export const used = () => fetch('https://example.com');\n`,
    rules: ['no-restricted-globals'],
  },
  {
    name: 'a domain file importing another library',
    filePath: 'libs/domain/layering-case.ts',
    code: `import { RegistryClient } from '../oci/registry-client';\nexport const used = RegistryClient;\n`,
    rules: [RESTRICTED_PATHS],
  },
  {
    name: 'libs/oci importing libs/core',
    filePath: 'libs/oci/layering-case.ts',
    code: `import { AuditService } from '../core/audit/audit.service';\nexport const used = AuditService;\n`,
    rules: [RESTRICTED_PATHS],
  },
  {
    name: 'libs/trust importing an app',
    filePath: 'libs/trust/layering-case.ts',
    code: `import { ProblemFilter } from '../../apps/api/http/problem.filter';\nexport const used = ProblemFilter;\n`,
    rules: [RESTRICTED_PATHS],
  },
  {
    name: 'libs/jobs importing pg',
    filePath: 'libs/jobs/layering-case.ts',
    code: `import { Client } from 'pg';\nexport const used = Client;\n`,
    rules: [RESTRICTED_IMPORTS],
  },
  {
    name: 'the API importing typeorm',
    filePath: 'apps/api/layering-case.ts',
    code: `import { DataSource } from 'typeorm';\nexport const used = DataSource;\n`,
    rules: [RESTRICTED_IMPORTS],
  },
  {
    name: 'a core service importing the DataSource',
    filePath: 'libs/core/policy/layering-case.service.ts',
    code: `import { type DataSource } from 'typeorm';\nexport type Used = DataSource;\n`,
    rules: [RESTRICTED_IMPORTS],
  },
  {
    name: 'a core service injecting the DataSource',
    filePath: 'libs/core/ops/layering-case.service.ts',
    code: `import { InjectDataSource } from '@nestjs/typeorm';\nexport const used = InjectDataSource;\n`,
    rules: [RESTRICTED_IMPORTS],
  },
  {
    name: 'a core check importing pg',
    filePath: 'libs/core/scans/layering-case.check.ts',
    code: `import { Pool } from 'pg';\nexport const used = Pool;\n`,
    rules: [RESTRICTED_IMPORTS],
  },
  {
    name: 'a core service passing a transaction’s EntityManager along',
    filePath: 'libs/core/change/layering-case.service.ts',
    code: `import { type EntityManager } from 'typeorm';\nexport type Used = EntityManager;\n`,
    rules: [],
  },
  {
    name: 'a core repository importing the DataSource',
    filePath: 'libs/core/policy/layering-case.repository.ts',
    code: `import { InjectDataSource } from '@nestjs/typeorm';\nimport { type DataSource } from 'typeorm';\nexport const used = InjectDataSource;\nexport type Used = DataSource;\n`,
    rules: [],
  },
  {
    name: 'the CLI importing libs/core',
    filePath: 'apps/cli/layering-case.ts',
    code: `import { AuditService } from '../../libs/core/audit/audit.service';\nexport const used = AuditService;\n`,
    rules: [RESTRICTED_PATHS],
  },
  {
    name: 'a domain file importing the domain and node:crypto',
    filePath: 'libs/domain/layering-case.ts',
    code: `import { createHash } from 'node:crypto';\nimport { DomainError } from './errors';\nexport const used = [createHash, DomainError];\n`,
    rules: [],
  },
  {
    name: 'libs/core/database importing typeorm, the domain and libs/oci',
    filePath: 'libs/core/database/layering-case.ts',
    code: `import { DataSource } from 'typeorm';\nimport { DomainError } from '../domain/errors';\nimport { RegistryClient } from '../oci/registry-client';\nexport const used = [DataSource, DomainError, RegistryClient];\n`,
    rules: [],
  },
  {
    name: 'the API importing libs/core',
    filePath: 'apps/api/layering-case.ts',
    code: `import { AuditService } from '../../libs/core/audit/audit.service';\nexport const used = AuditService;\n`,
    rules: [],
  },
  {
    name: 'the devstack importing pg (it creates development databases)',
    filePath: 'apps/devstack/layering-case.ts',
    code: `import { Client } from 'pg';\nexport const used = Client;\n`,
    rules: [],
  },
];

/** Lints every case with the repository's own config; returns the rule ids each one reported. */
const LINT = `
import { ESLint } from 'eslint';
import { resolve } from 'node:path';
import tseslint from 'typescript-eslint';
let input = '';
for await (const chunk of process.stdin) input += chunk;
// The snippets are not files on disk, which type-aware rules need; the layering rules are not type-aware.
const eslint = new ESLint({ cwd: process.cwd(), overrideConfig: tseslint.configs.disableTypeChecked });
const out = [];
for (const c of JSON.parse(input)) {
  const [result] = await eslint.lintText(c.code, { filePath: resolve(c.filePath) });
  out.push(result.messages.map((m) => m.ruleId ?? 'fatal: ' + m.message));
}
process.stdout.write(JSON.stringify(out));
`;

async function lintCases(): Promise<string[][]> {
  const run = promisify(execFile);
  const child = run(process.execPath, ['--input-type=module', '-e', LINT], { cwd: root, maxBuffer: 1 << 24 });
  child.child.stdin?.end(JSON.stringify(cases));
  const { stdout } = await child;
  return JSON.parse(stdout) as string[][];
}

describe('layering lint rules', () => {
  let reported: Map<string, string[]>;

  beforeAll(async () => {
    const results = await lintCases();
    reported = new Map(cases.map((c, i) => [c.name, [...new Set(results[i])].sort()]));
  }, 180_000);

  it.each(cases.map((c) => [c.name, c.rules] as const))('%s → %j', (name, rules) => {
    expect(reported.get(name)).toEqual([...rules].sort());
  });
});
