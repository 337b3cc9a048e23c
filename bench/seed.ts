import { type Pool, type PoolClient } from 'pg';

/** The bench-only table the floor's insert route writes to. */
export const FLOOR_TABLE_DDL = `CREATE TABLE bench_floor (
  id uuid PRIMARY KEY, artifact text NOT NULL, environment text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now())`;

export interface SeedTarget {
  environmentId: string;
  policyVersionId: string;
  policySha256: string;
  /** The CI issuer: seeded promotions look like CI requests of `acme/*` repositories. */
  ciIssuer: string;
  peopleIssuer: string;
}

export interface SeedResult {
  rows: number;
  seconds: number;
  /** Ids of seeded promotions that also got history, a check and an approval (GET targets). */
  detailIds: string[];
  maxSeq: number;
}

const REPOSITORIES = ['acme/app', 'acme/api', 'acme/web', 'acme/worker', 'team/infra/db'];
// Mostly finished promotions, as in a long-running installation: 70% promoted.
const STATUSES = [
  ...Array<string>(14).fill('promoted'),
  'rejected',
  'rejected',
  'rejected',
  'expired',
  'cancelled',
  'failed',
];

/** Rows for a child table of promotion: column → SQL expression over `from`. */
interface ChildSeed {
  table: string;
  columns: Record<string, string>;
  from: string;
  params: unknown[];
}

/**
 * Inserts a child table's rows with the columns it has (the schema moves on); when it has a
 * required column the seed does not know, it is left empty and the run says so.
 */
async function seedChild(c: PoolClient, s: ChildSeed, log: (msg: string) => void): Promise<void> {
  const cols: Array<{
    column_name: string;
    is_nullable: string;
    column_default: string | null;
    is_identity: string;
  }> = (
    await c.query(
      `SELECT column_name, is_nullable, column_default, is_identity FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name = $1`,
      [s.table],
    )
  ).rows;
  const missing = cols
    .filter((r) => r.is_nullable === 'NO' && r.column_default === null && r.is_identity !== 'YES')
    .map((r) => r.column_name)
    .filter((name) => !(name in s.columns));
  if (missing.length) {
    log(`  ${s.table} not seeded: the seed does not know how to fill ${missing.join(', ')}`);
    return;
  }
  const present = new Set(cols.map((r) => r.column_name));
  const use = Object.entries(s.columns).filter(([name]) => present.has(name));
  await c.query(
    `INSERT INTO ${s.table} (${use.map(([name]) => name).join(', ')}) SELECT ${use.map(([, e]) => e).join(', ')} ${s.from}`,
    s.params,
  );
}

async function withClient<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    return await fn(c);
  } finally {
    c.release();
  }
}

/**
 * Inserts `rows` promotions with one INSERT … SELECT generate_series per chunk, two chunks at a
 * time. Secondary indexes are dropped first and rebuilt after (same definitions, read from
 * pg_indexes); FK triggers are skipped (session_replication_role = replica) since every reference
 * is valid by construction. `seq` is given explicitly and the sequence moved past it.
 */
export async function seedPromotions(
  pool: Pool,
  t: SeedTarget,
  rows: number,
  log: (msg: string) => void = () => undefined,
): Promise<SeedResult> {
  const started = Date.now();
  let phase = Date.now();
  const done = (what: string): void => {
    log(`  ${what}: ${((Date.now() - phase) / 1000).toFixed(1)} s`);
    phase = Date.now();
  };
  const indexes: Array<{ indexname: string; indexdef: string }> = (
    await pool.query(
      `SELECT i.indexname, i.indexdef FROM pg_indexes i
       WHERE i.schemaname = 'public' AND i.tablename = 'promotion'
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    )
  ).rows;
  for (const i of indexes) await pool.query(`DROP INDEX "${i.indexname}"`);

  const chunk = Math.ceil(rows / 8);
  const ranges: Array<[number, number]> = [];
  for (let from = 1; from <= rows; from += chunk) ranges.push([from, Math.min(rows, from + chunk - 1)]);
  // Per-repository values are built once (repos) and copied; per-row work is kept small.
  const insert = async (c: PoolClient, [from, to]: [number, number]): Promise<void> => {
    await c.query(
      `WITH repos AS (
         SELECT (u.n - 1)::int AS i, u.repo, 'prod/' || u.repo AS target,
           jsonb_build_object('kind', 'ci', 'issuer', $4::text, 'subject', 'repo:' || u.repo || ':ref:refs/heads/main')
             AS requester,
           'repo:' || u.repo || ':ref:refs/heads/main@' || $4 AS requester_key,
           jsonb_build_object('repository', u.repo, 'ref', 'refs/heads/main', 'workflow', 'release',
             'actor', 'carol') AS claims
         FROM unnest($6::text[]) WITH ORDINALITY AS u(repo, n)
       )
       INSERT INTO promotion (id, seq, environment_id, policy_version_id, policy_sha256, source_registry,
         source_repository, digest, tag, target_registry, target_repository, status, requester,
         requester_key, claims, metadata, token_issuer, token_jti, idempotency_key, request_hash, reasons,
         created_at, updated_at)
       SELECT gen_random_uuid(), g, $1::uuid, $2::uuid, $3, 'registry.staging.example.com', r.repo,
         'sha256:' || encode(sha256(int8send(g)), 'hex'), NULL, 'registry.prod.example.com', r.target,
         ($5::text[])[(1 + g % 20)::int]::promotion_status, r.requester, r.requester_key, r.claims,
         '{}'::jsonb, $4, 'bench-' || g, NULL, lpad(to_hex(g), 64, '0'), '[]'::jsonb,
         now() - make_interval(secs => ($7 - g) * 30), now() - make_interval(secs => ($7 - g) * 30 - 60)
       FROM generate_series($8::bigint, $9::bigint) g JOIN repos r ON r.i = (g % ${REPOSITORIES.length})::int`,
      [
        t.environmentId,
        t.policyVersionId,
        t.policySha256,
        t.ciIssuer,
        STATUSES,
        REPOSITORIES,
        rows,
        from,
        to,
      ],
    );
  };
  // Two loaders (the machine's two cores); each takes the next chunk.
  const queue = [...ranges];
  await Promise.all(
    [0, 1].map(() =>
      withClient(pool, async (c) => {
        await c.query("SET session_replication_role = 'replica'");
        await c.query('SET synchronous_commit = off');
        for (let r = queue.shift(); r; r = queue.shift()) await insert(c, r);
        await c.query("SET session_replication_role = 'origin'");
      }),
    ),
  );
  await pool.query(`SELECT setval(pg_get_serial_sequence('promotion', 'seq'), $1)`, [rows]);
  done('rows');

  // Rebuild the indexes two at a time.
  const pending = [...indexes];
  await Promise.all(
    [0, 1].map(() =>
      withClient(pool, async (c) => {
        await c.query("SET maintenance_work_mem = '256MB'");
        for (let i = pending.shift(); i; i = pending.shift()) await c.query(i.indexdef);
      }),
    ),
  );
  done('indexes');

  // History, one check and one approval for the promotions the GET scenario reads.
  const detailIds: string[] = (
    await pool.query(
      `SELECT id FROM promotion WHERE seq IN (
         SELECT DISTINCT 1 + floor(random() * $1)::bigint FROM generate_series(1, 10000))`,
      [rows],
    )
  ).rows.map((r: { id: string }) => r.id);
  const system = `'{"kind":"system","issuer":"airlock","subject":"worker"}'::jsonb`;
  const ids = 'FROM promotion p WHERE p.id = ANY($1::uuid[])';
  const children: ChildSeed[] = [
    {
      table: 'promotion_status_change',
      columns: {
        promotion_id: 'p.id',
        from_status: 's.f::promotion_status',
        to_status: 's.t::promotion_status',
        actor: `CASE WHEN s.n = 1 THEN p.requester ELSE ${system} END`,
        reason: 's.reason',
        at: 'p.created_at + make_interval(secs => s.n)',
      },
      from: `FROM promotion p, (VALUES (1, NULL, 'received', 'requested'),
          (2, 'received', 'checking', 'check stage started'), (3, 'checking', 'awaiting_approval', 'checks passed'),
          (4, 'awaiting_approval', 'approved', 'approved'), (5, 'approved', 'promoting', 'promoter started'),
          (6, 'promoting', 'promoted', 'digest verified')) AS s(n, f, t, reason)
        WHERE p.id = ANY($1::uuid[])`,
      params: [detailIds],
    },
    {
      table: 'promotion_check',
      columns: {
        promotion_id: 'p.id',
        kind: "'vulnerabilities'",
        status: "'pass'",
        summary: "'no findings above the policy threshold'",
        findings: "'[]'::jsonb",
        attempts: '1',
        finished_at: "p.created_at + interval '2 seconds'",
      },
      from: ids,
      params: [detailIds],
    },
    {
      table: 'approval',
      columns: {
        promotion_id: 'p.id',
        decision: "'approve'",
        approver: "jsonb_build_object('kind', 'human', 'issuer', $2::text, 'subject', 'alice')",
        approver_key: "'alice@' || $2",
        person: "'alice@' || $2",
        groups: `'["release-managers"]'::jsonb`,
        comment: "'ship it'",
        digest: 'p.digest',
        policy_sha256: 'p.policy_sha256',
        created_at: "p.created_at + interval '3 seconds'",
      },
      from: ids,
      params: [detailIds, t.peopleIssuer],
    },
  ];
  await withClient(pool, async (c) => {
    await c.query("SET session_replication_role = 'replica'");
    for (const child of children) await seedChild(c, child, log);
    await c.query("SET session_replication_role = 'origin'");
  });
  done('details');

  // Settle the heap (hint bits, visibility map) and the statistics, then flush, so that neither
  // a checkpoint nor first-read page writes land inside a measurement.
  await pool.query('VACUUM (ANALYZE) promotion');
  await pool.query('VACUUM (ANALYZE) promotion_status_change, promotion_check, approval');
  done('vacuum');
  await pool.query('CHECKPOINT');
  done('checkpoint');
  return { rows, seconds: (Date.now() - started) / 1000, detailIds, maxSeq: rows };
}
