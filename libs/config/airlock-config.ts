import { plainToInstance, Transform } from 'class-transformer';
import { type HostPattern, parseHostPatterns } from '../domain/host-allowlist';
import {
  IsBoolean,
  IsEnum,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

export enum RuntimeMode {
  Development = 'development',
  Test = 'test',
  Production = 'production',
}

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

/**
 * Every setting Airlock reads from its environment. Validated once at boot by `loadConfig`;
 * nothing else in the codebase reads `process.env`. Names are the environment variable names.
 */
export class AirlockConfig {
  @IsEnum(RuntimeMode)
  AIRLOCK_MODE: RuntimeMode = RuntimeMode.Production;

  /** Postgres connection used by the API and worker (insert/select on the audit table only). */
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL!: string;

  /** Connection for migrations; defaults to DATABASE_URL. Needs to own the schema. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_MIGRATION_URL must be a postgres:// URL' })
  DATABASE_MIGRATION_URL?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE = 10;

  @Matches(/^rediss?:\/\//, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL!: string;

  /** BullMQ key prefix: lets several deployments (or test runs) share one Redis. */
  @Matches(/^[A-Za-z0-9:_-]{1,64}$/)
  REDIS_PREFIX = 'airlock';

  @IsString()
  API_HOST = '127.0.0.1';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  API_PORT = 8080;

  /** Largest accepted request body in bytes; bigger bodies get 413 before parsing. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(16 * 1024 * 1024)
  API_BODY_LIMIT_BYTES = 64 * 1024;

  /** Largest advisory archive (application/zip) accepted by POST /v1/advisories/imports. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(2 * 1024 * 1024 * 1024)
  ADVISORY_UPLOAD_LIMIT_BYTES = 512 * 1024 * 1024;

  /** Secret scan: uncompressed bytes one layer may hold; a larger layer refuses the image. */
  @Transform(toInt)
  @IsInt()
  @Min(1024 * 1024)
  @Max(64 * 1024 ** 3)
  SECRET_SCAN_MAX_LAYER_BYTES = 8 * 1024 ** 3;

  /** Secret scan: tar entries one layer may hold; more refuses the image. */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(100_000_000)
  SECRET_SCAN_MAX_ENTRIES = 1_000_000;

  /** Secret scan: files larger than this are not read for secrets (counted as skipped). */
  @Transform(toInt)
  @IsInt()
  @Min(64 * 1024)
  @Max(256 * 1024 * 1024)
  SECRET_SCAN_MAX_FILE_BYTES = 2 * 1024 * 1024;

  /**
   * Secret scan: a folder of operators' rule files in gitleaks's TOML format (`<set>.toml`), read
   * and checked at boot; a policy's `scans.secrets.rules` names the sets it runs.
   */
  @IsOptional()
  @IsString()
  @MinLength(1)
  SECRET_SCAN_RULES_DIR?: string;

  /** Secret scan: how long one image's scan may take; longer refuses the image. */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(24 * 3600)
  SECRET_SCAN_TIME_BUDGET_SECONDS = 600;

  /**
   * Secret scan: layer results kept in Postgres so a layer is read once (0 turns the cache off).
   * The least recently used beyond this are removed; a result is a few kB (findings, whiteouts).
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  SECRET_SCAN_CACHE_MAX_LAYERS = 50_000;

  /** Secret scan: layers of one image read at the same time. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(16)
  SECRET_SCAN_LAYER_CONCURRENCY = 2;

  /**
   * Where the secret scan reads layers: `child`, a process of its own forked by the worker (or by
   * the API, for an evaluation; libs/scan and libs/oci only; tokens are asked of the parent, pulls
   * of the image's repository only), so decompression and the rules add nothing to the parent's
   * memory and do not hold its event loop; or `inline`, in the worker or API itself.
   */
  @IsIn(['child', 'inline'])
  SECRET_SCAN_PROCESS: 'child' | 'inline' = 'child';

  /**
   * Secret scan: scan processes one worker or API process runs at once (SECRET_SCAN_PROCESS=child);
   * an image's scan beyond waits its turn. Each peaks at about 170 MB, and the scan is CPU-bound: the default
   * bounds a worker's scans to two processes whatever WORKER_CONCURRENCY is.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  SECRET_SCAN_PROCESSES = 2;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** JSON file with trusted issuers and role bindings applied at first start (when none exist). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  AIRLOCK_BOOTSTRAP_FILE?: string;

  /** PEM (PKCS#8) EC P-256 private key: signs audit checkpoints and promotion attestations. */
  @IsString()
  @MinLength(1)
  AIRLOCK_SIGNING_KEY_FILE!: string;

  /** Append-only JSON-lines file that receives signed audit checkpoints, outside the database. */
  @IsString()
  @MinLength(1)
  AUDIT_CHECKPOINT_FILE!: string;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  AUDIT_CHECKPOINT_INTERVAL_SECONDS = 300;

  /**
   * A verification with at most this many links to walk answers inline (a few milliseconds of the
   * API's event loop); a longer one runs as a job in the worker and answers 202.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  AUDIT_VERIFY_INLINE_MAX_EVENTS = 5000;

  /** A running verification nobody asked about for this long stops: its client went away. */
  @Transform(toInt)
  @IsInt()
  @Min(5)
  AUDIT_VERIFY_ABANDON_SECONDS = 60;

  /** Allowed clock skew when checking a token's exp/nbf/iat. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(300)
  AUTH_CLOCK_SKEW_SECONDS = 30;

  /** Accept trusted issuers over plain http (development and tests only). */
  @Transform(toBool)
  @IsBoolean()
  AUTH_ALLOW_INSECURE_ISSUERS = false;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  WORKER_CONCURRENCY = 4;

  /** How long a worker holds a job before others may take it over as stalled. */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  WORKER_LOCK_DURATION_MS = 30_000;

  /**
   * The queues this worker consumes (comma-separated: checks, promote, maintenance). Run promoters
   * (which hold production registry credentials) apart from checkers by giving each its own list.
   */
  @Matches(/^(checks|promote|maintenance|webhooks)(,(checks|promote|maintenance|webhooks))*$/, {
    message: 'WORKER_QUEUES must be a comma-separated list of checks, promote, maintenance, webhooks',
  })
  WORKER_QUEUES = 'checks,promote,maintenance,webhooks';

  /**
   * Airlock's API as subscribers reach it (`https://airlock.example.com`): webhook payloads link
   * back to it. Unset: links are paths only.
   */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { message: 'AIRLOCK_PUBLIC_URL must be an http(s) URL' })
  AIRLOCK_PUBLIC_URL?: string;

  /** How long one webhook delivery attempt may take (connect, send, first byte and body). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120_000)
  WEBHOOK_TIMEOUT_MS = 10_000;

  /** First wait before a webhook delivery is retried; doubled each time up to WEBHOOK_RETRY_MAX_DELAY_MS, ±25 % jitter. */
  @Transform(toInt)
  @IsInt()
  @Min(10)
  WEBHOOK_RETRY_BASE_MS = 5_000;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  WEBHOOK_RETRY_MAX_DELAY_MS = 3_600_000;

  /** How long a failing delivery keeps being retried from its first attempt (the default: 26 h). */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  WEBHOOK_RETRY_FOR_MS = 26 * 3_600_000;

  /** A subscription whose deliveries have failed without a success for this long is disabled (default 72 h). */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  WEBHOOK_DISABLE_AFTER_MS = 72 * 3_600_000;

  /** Finished webhook deliveries (with their attempts) and their events are kept this many days. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  WEBHOOK_RETENTION_DAYS = 30;

  /** Attempts a job gets (a check that could not run is retried; the last failure is final). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(50)
  WORKER_JOB_ATTEMPTS = 8;

  /** First retry delay; each further retry waits twice as long. */
  @Transform(toInt)
  @IsInt()
  @Min(50)
  WORKER_RETRY_DELAY_MS = 1000;

  /** How often the worker looks for requests past their pending timeout. */
  @Transform(toInt)
  @IsInt()
  @Min(200)
  WORKER_SWEEP_INTERVAL_MS = 30_000;

  /**
   * Folder of named secrets (one file per secret, named like the secret: `[a-z0-9-]+`) that
   * credential profiles refer to by name. Links out of the folder are not followed.
   */
  @IsOptional()
  @IsString()
  @MinLength(1)
  AIRLOCK_SECRETS_DIR?: string;

  /** Named secrets may also come from environment variables: this prefix + the name (upper case, `-` → `_`). */
  @Matches(/^[A-Z][A-Z0-9_]{0,63}$/)
  AIRLOCK_SECRET_ENV_PREFIX = 'AIRLOCK_SECRET_';

  /**
   * Hosts (with optional port) the admin API may configure as registries, token realms, redirect
   * targets, credential issuers or webhook URLs: comma-separated, `*` matches one DNS label, a port
   * of `*` any port (`registry.example.com`, `*.corp.example.com:5000`, `127.0.0.1:*`). A pattern
   * without a port matches only the scheme's default port. Empty: none. Parsed at boot
   * (`allowedHosts`); a bad pattern stops the process.
   */
  @Matches(/^[A-Za-z0-9.*:,\[\]-]*$/, {
    message: 'AIRLOCK_ALLOWED_HOSTS must be a comma-separated list of host patterns',
  })
  AIRLOCK_ALLOWED_HOSTS = '';

  /** Allow plain http and loopback, link-local or private addresses outside development mode. */
  @Transform(toBool)
  @IsBoolean()
  AIRLOCK_ALLOW_PRIVATE_HOSTS = false;

  /** Requests one authenticated caller may make per window (0: no limit). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  RATE_LIMIT_CALLER_MAX = 60_000;

  /** Requests without a valid token one address may make per window (0: no limit). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  RATE_LIMIT_ANONYMOUS_MAX = 300;

  /** The rate-limit window; budgets are counted in Redis, shared by every API replica. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  RATE_LIMIT_WINDOW_SECONDS = 60;

  /** Deepest nesting of a JSON request body; deeper bodies are refused with 400 before validation. */
  @Transform(toInt)
  @IsInt()
  @Min(4)
  @Max(256)
  API_JSON_MAX_DEPTH = 32;

  /** Longest token lifetime (`exp - iat`, or `exp - now` without `iat`) accepted; longer-lived tokens are refused. */
  @Transform(toInt)
  @IsInt()
  @Min(60)
  AUTH_MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;

  /**
   * JSON file listing Airlock's earlier signing keys, kept to verify what they signed:
   * `[{"publicKeyFile": "...", "notBefore": "...", "notAfter": "..."}]`.
   */
  @IsOptional()
  @IsString()
  @MinLength(1)
  AIRLOCK_PREVIOUS_KEYS_FILE?: string;

  /** How often the worker looks for promotions in a working status with no live job. */
  @Transform(toInt)
  @IsInt()
  @Min(200)
  RECONCILE_INTERVAL_MS = 30_000;

  /**
   * How often every environment's target registry is compared with what Airlock promoted into it
   * (drift checks; also on demand with POST /v1/environments/:name/drift-checks). 0: never on a
   * schedule.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  DRIFT_CHECK_INTERVAL_MS = 6 * 3600_000;

  /** Drift check: tags asked for per page of a tag listing. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  DRIFT_PAGE_SIZE = 200;

  /** Drift check: pages of one repository's tag listing read at most (then the check is truncated). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  DRIFT_MAX_PAGES = 50;

  /** Drift check: tags and promoted digests looked at, over every repository of the environment. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  DRIFT_MAX_ITEMS = 5000;

  /** Drift check: how long one check may read the registry before it stops, truncated. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  DRIFT_DEADLINE_SECONDS = 300;

  /** Drift check: findings stored at most (the count is kept beyond it). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  DRIFT_MAX_FINDINGS = 1000;

  /**
   * Continuous verification: findings stored at most per run (the counts are kept beyond it), so an
   * import that affects everything cannot fill the database.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  VERIFICATION_MAX_FINDINGS = 20_000;

  /** A working promotion untouched this long with no live job gets its job again. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  RECONCILE_AFTER_MS = 60_000;

  /** Overall deadline of one registry read or write, on top of what its size needs at the minimum rate. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  REGISTRY_DEADLINE_SECONDS = 120;

  /** Slowest transfer rate accepted from a registry (bytes/s); a slower one is cut off. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  REGISTRY_MIN_BYTES_PER_SECOND = 1024 * 1024;

  /**
   * Where the promoter moves an image's bytes: `child`, a lean process of its own forked by the
   * worker (libs/oci only; tokens are asked of the worker), so a copy's memory is not added to the
   * worker's; or `inline`, in the worker process itself.
   */
  @IsIn(['child', 'inline'])
  PROMOTER_COPY_PROCESS: 'child' | 'inline' = 'child';

  /**
   * The longest anything answering a caller waits for Postgres or Redis: /metrics and /readyz then
   * answer with what they have; a request gets 503 database_unavailable / queue_unavailable. It
   * bounds new Postgres connections (and the wait for a free one) and every Redis command of the
   * API and the producers.
   */
  @Transform(toInt)
  @IsInt()
  @Min(50)
  DEPENDENCY_TIMEOUT_MS = 2000;

  /**
   * Test mode only: a file holding a number of milliseconds to add to the clock, so tests can move
   * time forward (approval expiry, pending timeouts) without sleeping.
   */
  @IsOptional()
  @IsString()
  AIRLOCK_TEST_CLOCK_FILE?: string;

  /**
   * The environment variables that carry named secrets (those starting with
   * AIRLOCK_SECRET_ENV_PREFIX), captured by loadConfig so that nothing else reads process.env.
   */
  namedSecretEnv: Readonly<Record<string, string>> = {};

  /** AIRLOCK_ALLOWED_HOSTS parsed by loadConfig (libs/domain/host-allowlist). */
  allowedHosts: readonly HostPattern[] = [];

  /**
   * Whether plain http and loopback, link-local or private addresses may be configured: in
   * development and test mode, or when AIRLOCK_ALLOW_PRIVATE_HOSTS says so.
   */
  get privateHostsAllowed(): boolean {
    return this.AIRLOCK_MODE !== RuntimeMode.Production || this.AIRLOCK_ALLOW_PRIVATE_HOSTS;
  }

  get databaseMigrationUrl(): string {
    return this.DATABASE_MIGRATION_URL ?? this.DATABASE_URL;
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Validates a plain map of variables; throws a ConfigError naming every bad or missing one. */
export function loadConfig(env: Record<string, string | undefined>): AirlockConfig {
  const known = Object.keys(new ConfigShape());
  const picked = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => known.includes(k) && v !== undefined && v !== ''),
  );
  const config = plainToInstance(AirlockConfig, picked, { exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: false, forbidUnknownValues: true });
  if (errors.length > 0) {
    throw new ConfigError(
      errors.map((e) => {
        // An unset variable is missing, not "shorter than 1 character"; a set one names the one
        // rule it breaks (its type first), and its value unless that could be a credential (URLs).
        if (e.value === undefined) return `${e.property}: is required but not set`;
        const constraints = e.constraints ?? {};
        const rule = ['isString', 'isInt', 'isBoolean', 'isEnum', 'isIn'].find((c) => c in constraints);
        const message = rule ? constraints[rule] : Object.values(constraints)[0];
        const shown = e.property.includes('URL') ? '' : ` (got ${JSON.stringify(e.value)})`;
        return `${e.property}: ${message}${shown}`;
      }),
    );
  }
  if (config.AIRLOCK_MODE === RuntimeMode.Production && config.AUTH_ALLOW_INSECURE_ISSUERS) {
    throw new ConfigError(['AUTH_ALLOW_INSECURE_ISSUERS: must not be true in production mode']);
  }
  if (config.AIRLOCK_MODE !== RuntimeMode.Test && config.AIRLOCK_TEST_CLOCK_FILE) {
    throw new ConfigError(['AIRLOCK_TEST_CLOCK_FILE: only allowed in test mode']);
  }
  try {
    config.allowedHosts = parseHostPatterns(config.AIRLOCK_ALLOWED_HOSTS);
  } catch (e) {
    throw new ConfigError([`AIRLOCK_ALLOWED_HOSTS: ${(e as Error).message}`]);
  }
  config.namedSecretEnv = Object.fromEntries(
    Object.entries(env).filter(
      (e): e is [string, string] =>
        e[0].startsWith(config.AIRLOCK_SECRET_ENV_PREFIX) && typeof e[1] === 'string' && e[1] !== '',
    ),
  );
  return config;
}

/** A config with every property present, to list the names loadConfig looks at. */
class ConfigShape extends AirlockConfig {
  constructor() {
    super();
    this.DATABASE_URL = '';
    this.REDIS_URL = '';
    this.AIRLOCK_SIGNING_KEY_FILE = '';
    this.AUDIT_CHECKPOINT_FILE = '';
    this.DATABASE_MIGRATION_URL = '';
    this.AIRLOCK_BOOTSTRAP_FILE = '';
    this.AIRLOCK_TEST_CLOCK_FILE = '';
    this.AIRLOCK_SECRETS_DIR = '';
    this.AIRLOCK_PREVIOUS_KEYS_FILE = '';
    this.AIRLOCK_PUBLIC_URL = '';
    this.SECRET_SCAN_RULES_DIR = '';
  }
}

let loaded: AirlockConfig | undefined;

/** The process's configuration, read from process.env on first use and validated once. */
export function processConfig(): AirlockConfig {
  // eslint-disable-next-line no-restricted-properties -- the one place that reads the environment
  loaded ??= loadConfig(process.env);
  return loaded;
}

/**
 * The variables a process Airlock forks keeps (the promoter's copy process): how to find programs
 * and read certificates and time, nothing of the configuration. The database URL and the secrets
 * given as AIRLOCK_SECRET_… variables stay in the process that needs them.
 */
export const CHILD_PROCESS_ENV_NAMES = [
  'PATH',
  'TZ',
  'LANG',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
] as const;

/** The values of CHILD_PROCESS_ENV_NAMES (those set) in `env`, by default this process's. */
export function childProcessEnvironment(
  // eslint-disable-next-line no-restricted-properties -- passed on to a child, not configuration
  env: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of CHILD_PROCESS_ENV_NAMES) {
    const value = env[name];
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}

/** Only the database settings, for the migration CLI, which needs nothing else. */
export function databaseConfig(): { migrationUrl: string } {
  // eslint-disable-next-line no-restricted-properties -- the migration CLI's entry into the environment
  const env = process.env;
  const url = env.DATABASE_MIGRATION_URL ?? env.DATABASE_URL;
  if (!url || !/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigError(['DATABASE_URL: must be a postgres:// URL (or set DATABASE_MIGRATION_URL)']);
  }
  return { migrationUrl: url };
}
