// `node dist/bench/verification.js`: how long continuous verification takes to re-judge what is
// promoted after an advisory import, the way the worker does it (VerificationService.run): 1,000
// promoted digests, each with the SBOM packages its checks stored (300 per digest), against an
// import of 50,000 OSV advisories that are all new (the whole import is "what changed"), then
// against a small import that changes 100 advisories (the usual daily case: only those are
// matched). No registry is involved; Postgres holds everything.
//
// Settings (optional): VERIFY_BENCH_DIGESTS=1000 VERIFY_BENCH_PACKAGES=300
// VERIFY_BENCH_ADVISORIES=50000 BENCH_DOC=docs/benchmarks.md|none
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { dropDatabase, ensureDatabase, runMigrations } from '../apps/devstack/database';
import { type AirlockConfig } from '../libs/config';
import { AdvisoryImportService } from '../libs/core/advisory/advisory-import.service';
import { AdvisoryRepository } from '../libs/core/advisory/advisory.repository';
import { AuditRepository } from '../libs/core/audit/audit.repository';
import { type Clock } from '../libs/core/common/clock';
import { dataSourceOptions } from '../libs/core/database/data-source';
import { WebhookRepository } from '../libs/core/webhook/webhook.repository';
import { type EnvironmentService } from '../libs/core/environment/environment.service';
import { type Caller } from '../libs/core/identity/caller';
import { PromotionEvidenceRepository } from '../libs/core/verification/promotion-evidence.repository';
import { VerificationQueue } from '../libs/core/verification/verification-queue';
import { VerificationRepository } from '../libs/core/verification/verification.repository';
import { VerificationService } from '../libs/core/verification/verification.service';
import { type WakeBus } from '../libs/jobs';
import { type SbomPackage } from '../libs/sbom';
import { testEnv } from '../test/support/test-env';
import { fmt, machineInfo, writeMarkedSection } from './lib-report';

const env = process.env;
const DIGESTS = Number(env.VERIFY_BENCH_DIGESTS ?? 1_000);
const PACKAGES = Number(env.VERIFY_BENCH_PACKAGES ?? 300);
const ADVISORIES = Number(env.VERIFY_BENCH_ADVISORIES ?? 50_000);
const SMALL_IMPORT = 100;
const NAMES = 12_000;
/** Package names the promoted images use: a quarter of the advisories' names, as base images share. */
const POOL = 3_000;
const DOC = env.BENCH_DOC ?? 'docs/benchmarks.md';
const TARGET_MS = 60_000;

const ECOSYSTEMS = [
  {
    osv: 'npm',
    name: (i: number) => `pkg-${i}`,
    purl: (n: string, v: string) => `pkg:npm/${n}@${v}`,
    type: 'SEMVER',
  },
  {
    osv: 'PyPI',
    name: (i: number) => `py-pkg-${i}`,
    purl: (n: string, v: string) => `pkg:pypi/${n}@${v}`,
    type: 'ECOSYSTEM',
  },
  {
    osv: 'Maven',
    name: (i: number) => `org.example${i % 40}:artifact-${i}`,
    purl: (n: string, v: string) => `pkg:maven/${n.replace(':', '/')}@${v}`,
    type: 'ECOSYSTEM',
  },
] as const;
const ecosystemOf = (i: number) => ECOSYSTEMS[i % ECOSYSTEMS.length];
const version = (n: number) => `${Math.floor(n / 10)}.${n % 10}.0`;

function advisory(i: number, modified: string): Record<string, unknown> {
  const pkg = i % NAMES;
  const eco = ecosystemOf(pkg);
  const intro = (i * 7) % 40;
  return {
    schema_version: '1.6.0',
    id: `VERIFY-${String(i).padStart(6, '0')}`,
    modified,
    summary: `synthetic advisory ${i}`,
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
    affected: [
      {
        package: { ecosystem: eco.osv, name: eco.name(pkg) },
        ranges: [
          {
            type: eco.type,
            events: [
              { introduced: intro === 0 ? '0' : version(intro) },
              { fixed: version(intro + 5 + (i % 20)) },
            ],
          },
        ],
      },
    ],
  };
}

/** The SBOM packages of promoted digest `d`: PACKAGES names from the pool, at varied versions. */
function packagesOf(d: number): SbomPackage[] {
  const out: SbomPackage[] = [];
  for (let k = 0; k < PACKAGES; k++) {
    const pkg = (d * 37 + k * 11) % POOL;
    const eco = ecosystemOf(pkg);
    const name = eco.name(pkg);
    const v = version((d + k) % 60);
    out.push({
      name,
      version: v,
      purl: eco.purl(name, v),
      license: 'MIT',
      identity: { ecosystem: eco.osv, name: eco.osv === 'PyPI' ? name.toLowerCase() : name, release: '' },
    });
  }
  return out;
}

const SYSTEM = {
  actor: { kind: 'human', issuer: 'bench', subject: 'bench' },
  key: 'bench|bench',
  groups: [],
  claims: {},
  tokenJti: null,
  grants: [],
} as unknown as Caller;

async function seedPromotions(ds: DataSource, evidence: PromotionEvidenceRepository): Promise<void> {
  const [{ id: envId }] = await ds.query<Array<{ id: string }>>(
    `INSERT INTO environment (name, sources, target) VALUES ('production', '[]', '{"registry":"registry.example.com","repository":"prod/{repository}"}') RETURNING id`,
  );
  const [{ id: policyId }] = await ds.query<Array<{ id: string }>>(
    `INSERT INTO policy_version (environment_id, version, document, sha256, created_by)
     VALUES ($1, 1, '{"approvals":{"required":0},"scans":{"vulnerabilities":{"maxSeverity":"high"}}}', $2, '{}') RETURNING id`,
    [envId, '0'.repeat(64)],
  );
  await ds.query('UPDATE environment SET active_policy_version_id = $2 WHERE id = $1', [envId, policyId]);
  for (let d = 0; d < DIGESTS; d++) {
    const id = randomUUID();
    const digest = `sha256:${createHash('sha256').update(`digest-${d}`).digest('hex')}`;
    await ds.query(
      `INSERT INTO promotion (id, environment_id, policy_version_id, policy_sha256, source_registry, source_repository,
         digest, tag, target_registry, target_repository, status, requester, requester_key, request_hash)
       VALUES ($1, $2, $3, $4, 'staging.example.com', $5, $6, 'v1', 'registry.example.com', $7, 'promoted', '{}', 'bench', $4)`,
      [id, envId, policyId, '0'.repeat(64), `acme/app-${d}`, digest, `prod/acme/app-${d}`],
    );
    await evidence.recordPackages(id, packagesOf(d));
  }
}

async function main(): Promise<void> {
  const startLoad = loadavg()[0];
  const { adminDatabaseUrl } = testEnv();
  const dbName = `airlock_bench_verify_${randomBytes(4).toString('hex')}`;
  const url = await ensureDatabase(adminDatabaseUrl, dbName);
  const ds = new DataSource({ ...dataSourceOptions(url, 4), migrations: [] });
  try {
    await runMigrations(url);
    await ds.initialize();
    const audit = new AuditRepository(ds);
    const advisoryRepo = new AdvisoryRepository(ds);
    // No worker here: the run the import queues is taken by the service below, as the worker would.
    const wakeups = { wake: () => undefined } as unknown as WakeBus;
    const imports = new AdvisoryImportService(advisoryRepo, audit, new VerificationQueue(), wakeups);
    const config = { VERIFICATION_MAX_FINDINGS: 20_000 } as AirlockConfig;
    const clock = { now: () => Date.now() } as Clock;
    const service = new VerificationService(
      new VerificationRepository(ds, audit, new WebhookRepository(ds)),
      advisoryRepo,
      undefined as unknown as EnvironmentService,
      config,
      clock,
      wakeups,
    );

    const seedStarted = performance.now();
    await seedPromotions(ds, new PromotionEvidenceRepository(ds));
    const seedMs = performance.now() - seedStarted;
    console.log(
      `seeded ${DIGESTS} promoted digests with ${PACKAGES} packages each in ${fmt(seedMs / 1000, 1)} s`,
    );

    const judge = async (docs: Record<string, unknown>[], label: string) => {
      // As JSON: test/support's in-memory zip deflates every file at once (gigabytes for 50,000).
      const imported = await imports.import(AdvisoryImportService.uploadOf(docs), SYSTEM);
      await ds.query('ANALYZE');
      const [{ id }] = await ds.query<Array<{ id: string }>>(
        'SELECT id FROM verification_run WHERE import_id = $1',
        [imported.view.id],
      );
      const t0 = performance.now();
      await service.run(id, true);
      const ms = performance.now() - t0;
      const [run] = await ds.query<
        Array<{ status: string; summary: string; counts: Record<string, number> }>
      >('SELECT status, summary, counts FROM verification_run WHERE id = $1', [id]);
      console.log(
        `${label}: ${run.status} in ${fmt(ms, 0)} ms; ${run.counts.packagesMatched} packages matched, ${run.counts.findings} findings (${run.counts.newFindings} new)`,
      );
      return { ms, counts: run.counts };
    };

    const full = await judge(
      Array.from({ length: ADVISORIES }, (_, i) => advisory(i, '2026-10-01T00:00:00Z')),
      'full',
    );
    const small = await judge(
      Array.from({ length: SMALL_IMPORT }, (_, i) => advisory(i * 97, '2026-11-01T00:00:00Z')),
      'small',
    );

    if (DOC !== 'none') {
      const m = machineInfo();
      const lines = [
        '## Continuous verification',
        '',
        `Measured by \`node dist/bench/verification.js\` (bench/verification.ts) on ${m.date}, at ${m.revision}: ${m.cpus}, ${m.memory}, Node ${m.node}, load average ${fmt(startLoad, 2)} at the start${startLoad > 1 ? ' (other work was running)' : ''}.`,
        '',
        `${fmt(DIGESTS)} promoted digests in one environment, each with the ${fmt(PACKAGES)} SBOM packages its checks stored (names from a pool of ${fmt(POOL)} npm, PyPI and Maven packages). An import of ${fmt(ADVISORIES)} new synthetic OSV advisories over ${fmt(NAMES)} names, then one that changes ${SMALL_IMPORT} of them; each queues a run that the service runs as the worker does (VerificationService.run): the digests promoted now, their stored packages that some changed advisory names, those advisories, each ecosystem's version order, the environment's policy, and the findings written in one transaction. No registry is read. Every name in the pool carries advisories, so every stored package is matched: a worst case (a real import names a small share of what is deployed). The second run reports as new the findings the first one found but did not store.`,
        '',
        `Target: re-judging ${fmt(DIGESTS)} digests against a ${fmt(ADVISORIES)}-advisory import within ${TARGET_MS / 1000} s. **${full.ms < TARGET_MS ? 'Met' : 'Missed'}.**`,
        '',
        '| measure | value |',
        '| --- | ---: |',
        `| run after the ${fmt(ADVISORIES)}-advisory import | ${fmt(full.ms / 1000, 1)} s |`,
        `| packages matched (stored packages some changed advisory names) | ${fmt(full.counts.packagesMatched)} |`,
        `| findings found | ${fmt(full.counts.findings)} |`,
        `| findings stored (VERIFICATION_MAX_FINDINGS ${fmt(config.VERIFICATION_MAX_FINDINGS)}; all are counted) | ${fmt(full.counts.findings - full.counts.notStored)} |`,
        `| run after an import changing ${SMALL_IMPORT} advisories | ${fmt(small.ms, 0)} ms |`,
        `| packages matched then | ${fmt(small.counts.packagesMatched)} |`,
        `| seeding ${fmt(DIGESTS)} digests' evidence (${fmt(DIGESTS * PACKAGES)} package rows) | ${fmt(seedMs / 1000, 1)} s |`,
      ];
      await writeMarkedSection(DOC, 'verification', lines.join('\n'));
      console.log(`wrote the verification section of ${DOC}`);
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
