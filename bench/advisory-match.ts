// `node dist/bench/advisory-match.js`: how long the vulnerability check takes to match a
// 2,000-package SBOM against 50,000 OSV advisories stored in Postgres, the way the worker does it:
// one query for the advisories of the SBOM's packages (AdvisoryRepository.candidatesFor), then
// each ecosystem's version order over their ranges (matchVulnerabilities), after reading and
// validating the SBOM document (readSbom). Also how long the 50,000 advisories take to import as
// one zip archive through AdvisoryImportService.
//
// The advisories span npm, PyPI, Maven, Go, crates.io, Debian and Alpine over 12,000 package names
// (so names carry several advisories, as real ones do); the SBOM names 2,000 packages of which
// 1,200 have advisories, at versions some of which are affected.
//
// Settings (optional): MATCH_BENCH_RUNS=20 MATCH_BENCH_ADVISORIES=50000 MATCH_BENCH_PACKAGES=2000
// BENCH_DOC=docs/benchmarks.md|none
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { dropDatabase, ensureDatabase, runMigrations } from '../apps/devstack/database';
import { AdvisoryImportService } from '../libs/core/advisory/advisory-import.service';
import { AdvisoryRepository } from '../libs/core/advisory/advisory.repository';
import { AuditRepository } from '../libs/core/audit/audit.repository';
import { dataSourceOptions } from '../libs/core/database/data-source';
import { type Caller } from '../libs/core/identity/caller';
import { VerificationQueue } from '../libs/core/verification/verification-queue';
import { type WakeBus } from '../libs/jobs';
import { readSbom } from '../libs/sbom';
import { advisoryKeys, matchVulnerabilities } from '../libs/vuln';
import { osvZip } from '../test/support/osv';
import { testEnv } from '../test/support/test-env';
import { fmt, machineInfo, median, percentile, writeMarkedSection } from './lib-report';

const env = process.env;
const RUNS = Number(env.MATCH_BENCH_RUNS ?? 20);
const ADVISORIES = Number(env.MATCH_BENCH_ADVISORIES ?? 50_000);
const PACKAGES = Number(env.MATCH_BENCH_PACKAGES ?? 2_000);
const NAMES = 12_000;
const DOC = env.BENCH_DOC ?? 'docs/benchmarks.md';
const TARGET_MS = 1000;

interface Ecosystem {
  osv: string;
  purl: (name: string, version: string) => string;
  name: (i: number) => string;
  /** A version at position `n` of the package's history, and the range type OSV uses. */
  version: (n: number) => string;
  range: 'SEMVER' | 'ECOSYSTEM';
}

const ECOSYSTEMS: Ecosystem[] = [
  {
    osv: 'npm',
    name: (i) => (i % 3 === 0 ? `@scope${i % 50}/pkg-${i}` : `pkg-${i}`),
    purl: (n, v) => `pkg:npm/${n.startsWith('@') ? `%40${n.slice(1)}` : n}@${v}`,
    version: (n) => `${Math.floor(n / 10)}.${n % 10}.${n % 3}`,
    range: 'SEMVER',
  },
  {
    osv: 'PyPI',
    name: (i) => `py-pkg-${i}`,
    purl: (n, v) => `pkg:pypi/${n}@${v}`,
    version: (n) => (n % 4 === 0 ? `${Math.floor(n / 10)}.${n % 10}rc1` : `${Math.floor(n / 10)}.${n % 10}`),
    range: 'ECOSYSTEM',
  },
  {
    osv: 'Maven',
    name: (i) => `org.example${i % 40}:artifact-${i}`,
    purl: (n, v) => `pkg:maven/${n.replace(':', '/')}@${v}`,
    version: (n) =>
      n % 5 === 0 ? `${Math.floor(n / 10)}.${n % 10}.0-beta${n % 3}` : `${Math.floor(n / 10)}.${n % 10}.0`,
    range: 'ECOSYSTEM',
  },
  {
    osv: 'Go',
    name: (i) => `github.com/org${i % 30}/module-${i}`,
    purl: (n, v) => `pkg:golang/${n}@v${v}`,
    version: (n) => `${Math.floor(n / 10)}.${n % 10}.0`,
    range: 'SEMVER',
  },
  {
    osv: 'crates.io',
    name: (i) => `crate-${i}`,
    purl: (n, v) => `pkg:cargo/${n}@${v}`,
    version: (n) => `${Math.floor(n / 10)}.${n % 10}.1`,
    range: 'SEMVER',
  },
  {
    osv: 'Debian:12',
    name: (i) => `deb-src-${i}`,
    purl: (n, v) => `pkg:deb/debian/${n}@${v}?distro=debian-12`,
    version: (n) => `${Math.floor(n / 10)}.${n % 10}-${(n % 3) + 1}~deb12u1`,
    range: 'ECOSYSTEM',
  },
  {
    osv: 'Alpine:v3.20',
    name: (i) => `apk-${i}`,
    purl: (n, v) => `pkg:apk/alpine/${n}@${v}?distro=alpine-3.20.1`,
    version: (n) => `${Math.floor(n / 10)}.${n % 10}-r${n % 4}`,
    range: 'ECOSYSTEM',
  },
];

const VECTORS = [
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H',
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N',
  'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N',
];

const ecosystemOf = (i: number) => ECOSYSTEMS[i % ECOSYSTEMS.length];

function advisories(): Record<string, unknown>[] {
  const docs: Record<string, unknown>[] = [];
  for (let i = 0; i < ADVISORIES; i++) {
    const pkg = i % NAMES;
    const eco = ecosystemOf(pkg);
    const intro = (i * 7) % 40;
    const fixed = intro + 5 + (i % 20);
    docs.push({
      schema_version: '1.6.0',
      id: `BENCH-${String(i).padStart(6, '0')}`,
      modified: '2026-10-01T00:00:00Z',
      aliases: [`CVE-2099-${100000 + i}`],
      summary: `synthetic advisory ${i}`,
      severity: [{ type: 'CVSS_V3', score: VECTORS[i % VECTORS.length] }],
      affected: [
        {
          package: { ecosystem: eco.osv, name: eco.name(pkg) },
          ranges: [
            {
              type: eco.range,
              events: [
                { introduced: intro === 0 ? '0' : eco.version(intro) },
                ...(i % 9 === 0 ? [] : [{ fixed: eco.version(fixed) }]),
              ],
            },
          ],
          ...(i % 11 === 0 ? { versions: [eco.version(intro + 1), eco.version(intro + 2)] } : {}),
        },
      ],
    });
  }
  return docs;
}

/** The SBOM as an attestation carries it: a CycloneDX 1.6 document, read and validated each run. */
function sbomDocument(): Record<string, unknown> {
  const components: Record<string, unknown>[] = [];
  for (let i = 0; i < PACKAGES; i++) {
    // 60% of the packages have advisories (names below NAMES); the rest are unknown to the database.
    const pkg = i % 5 < 3 ? (i * 13) % NAMES : NAMES + i;
    const eco = ecosystemOf(pkg);
    const name = eco.name(pkg);
    const version = eco.version((i * 3) % 60);
    components.push({
      type: 'library',
      'bom-ref': `c${i}`,
      name,
      version,
      purl: eco.purl(name, version),
      licenses: [{ license: { id: 'MIT' } }],
    });
  }
  return { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components };
}

const SYSTEM: Caller = {
  actor: { kind: 'human', issuer: 'bench', subject: 'bench' },
  key: 'bench|bench',
  groups: [],
  claims: {},
  tokenJti: null,
  grants: [],
} as unknown as Caller;

async function main(): Promise<void> {
  const startLoad = loadavg()[0];
  const { adminDatabaseUrl } = testEnv();
  const dbName = `airlock_bench_match_${randomBytes(4).toString('hex')}`;
  const url = await ensureDatabase(adminDatabaseUrl, dbName);
  const ds = new DataSource({ ...dataSourceOptions(url, 4), migrations: [] });
  try {
    await runMigrations(url);
    await ds.initialize();
    const repo = new AdvisoryRepository(ds);
    // No worker here: the continuous-verification run the import queues is left in the outbox.
    const wakeups = { wake: () => undefined } as unknown as WakeBus;
    const imports = new AdvisoryImportService(
      repo,
      new AuditRepository(ds),
      new VerificationQueue(),
      wakeups,
    );

    const docs = advisories();
    const archive = await osvZip(docs);
    const importStarted = performance.now();
    const imported = await imports.import({ kind: 'zip', bytes: archive, fileName: 'bench.zip' }, SYSTEM);
    const importMs = performance.now() - importStarted;
    await ds.query('ANALYZE');
    console.log(
      `imported ${imported.view.documents} advisories (${fmt(archive.length / 1024 ** 2, 1)} MiB zip) in ${fmt(importMs)} ms`,
    );

    const document = sbomDocument();
    const policy = { maxSeverity: 'medium' as const };
    const now = new Date();
    const times: number[] = [];
    const queryTimes: number[] = [];
    const readTimes: number[] = [];
    let packageCount = 0;
    let findings = 0;
    let candidates = 0;
    for (let run = 0; run < RUNS + 2; run++) {
      const t0 = performance.now();
      const { packages } = readSbom('cyclonedx', document);
      const tRead = performance.now();
      const byKey = await repo.candidatesFor(advisoryKeys(packages));
      const t1 = performance.now();
      const report = matchVulnerabilities(packages, byKey, policy, now);
      const t2 = performance.now();
      if (run < 2) continue; // warm-up: connections, plans, JIT
      times.push(t2 - t0);
      queryTimes.push(t1 - tRead);
      readTimes.push(tRead - t0);
      packageCount = packages.length;
      findings = report.findings.length;
      candidates = [...byKey.values()].reduce((n, l) => n + l.length, 0);
    }
    const p50 = median(times);
    const p99 = percentile(times, 99);
    const met = p99 < TARGET_MS;
    console.log(
      `match: p50 ${fmt(p50, 1)} ms (reading the SBOM ${fmt(median(readTimes), 1)} ms, query ${fmt(median(queryTimes), 1)} ms), max ${fmt(Math.max(...times), 1)} ms; ${candidates} advisory rows read, ${findings} findings`,
    );

    if (DOC !== 'none') {
      const m = machineInfo();
      const lines = [
        '## Vulnerability matching',
        '',
        `Measured by \`node dist/bench/advisory-match.js\` (bench/advisory-match.ts) on ${m.date}, at ${m.revision}: ${m.cpus}, ${m.memory}, Node ${m.node}, load average ${fmt(startLoad, 2)} at the start${startLoad > 1 ? ' (other work was running)' : ''}.`,
        '',
        `${fmt(ADVISORIES)} synthetic OSV advisories over ${fmt(NAMES)} package names in seven ecosystems (npm, PyPI, Maven, Go, crates.io, Debian, Alpine; SEMVER and ECOSYSTEM ranges, listed versions, CVSS v3.1 vectors), imported as one zip through the import service. A ${fmt(PACKAGES)}-package CycloneDX 1.6 SBOM (60% of its packages named in advisories) matched the way the worker does it: the document read and validated against its schema, one query for the advisories of its packages, then each ecosystem's version order over their ranges. ${RUNS} timed runs after 2 warm-up runs.`,
        '',
        `Target: matching under ${TARGET_MS} ms. **${met ? 'Met' : 'Missed'}.**`,
        '',
        '| measure | value |',
        '| --- | ---: |',
        `| match, p50 (SBOM read and validated, query, version comparisons) | ${fmt(p50, 1)} ms |`,
        `| match, p99 | ${fmt(p99, 1)} ms |`,
        `| of which reading the SBOM (schema validation included), p50 | ${fmt(median(readTimes), 1)} ms |`,
        `| of which the Postgres query, p50 | ${fmt(median(queryTimes), 1)} ms |`,
        `| packages read from the SBOM | ${fmt(packageCount)} |`,
        `| advisory rows read per match | ${fmt(candidates)} |`,
        `| findings per match | ${fmt(findings)} |`,
        `| import of ${fmt(ADVISORIES)} advisories (${fmt(archive.length / 1024 ** 2, 1)} MiB zip) | ${fmt(importMs / 1000, 1)} s |`,
      ];
      await writeMarkedSection(DOC, 'match', lines.join('\n'));
      console.log(`wrote the match section of ${DOC}`);
    }
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await dropDatabase(adminDatabaseUrl, dbName);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
