// What each rule of the secret scan needs to see in a file before it can report anything, read
// off the rules' own patterns (the versions in TRIGGERS_READ_FROM, and secret-rules.ts' patterns).
// A trigger is a necessary condition: every report of its rule contains one of its literals (in a
// file whose path passes its path test, and whose text matches its `confirm` pattern). A rule
// none of whose triggers fire cannot report anything, so it need not run; a rule with no trigger
// listed here always runs.
//
// Literals are matched against the file's bytes, `confirm` patterns against the bytes read as
// Latin-1, the rules run on the UTF-8 decoding. They agree because literals and confirm patterns
// match ASCII characters only (no `.`, negated class, `\s`, `\W` or `\b`; `i` without `u` folds
// ASCII letters only): decoding keeps each ASCII byte as that character and turns every other byte
// into a non-ASCII character (a letter, or U+FFFD when invalid), so an ASCII run of the text is an
// ASCII run of the bytes.
import { SECRET_PATTERNS } from './secret-rules';

/**
 * The rule packages the triggers were read from. Another version may match other tokens: read its
 * rules again, then change these (a test compares them with what is installed).
 */
export const TRIGGERS_READ_FROM: Readonly<Record<string, string>> = {
  '@secretlint/secretlint-rule-preset-recommend': '13.0.7',
  '@secretlint/secretlint-rule-pattern': '13.0.6',
};

export const PRESET_RULE_PREFIX = '@secretlint/secretlint-rule-';
export const PATTERN_RULE = '@secretlint/secretlint-rule-pattern';

export interface SecretTrigger {
  /** The secretlint rule id. */
  rule: string;
  /** What the trigger stands for (a message id or pattern name), for tests and messages. */
  what: string;
  /** Every report contains one of these (exact case unless `ignoreCase`). */
  literals: readonly string[];
  ignoreCase?: boolean;
  /** False when the rule cannot look at a file with this layer path. */
  pathMayMatch?: (path: string) => boolean;
  /**
   * Also matched by every report (ASCII only, see above), within `before` bytes before the literal
   * occurrence the report holds and `after` bytes after its end (read off the rule's regex): it is
   * tested on those few bytes around each literal found, not on the whole file.
   */
  confirm?: { pattern: RegExp; before: number; after: number };
}

const preset = (name: string) => `${PRESET_RULE_PREFIX}${name}`;

/** `prefix` + each of `suffixes`. */
const withPrefix = (prefix: string, suffixes: readonly string[]) => suffixes.map((s) => `${prefix}${s}`);

/** Every combination of one item per list, concatenated. */
function combinations(...lists: readonly (readonly string[])[]): string[] {
  return lists.reduce<string[]>((acc, list) => acc.flatMap((a) => list.map((b) => `${a}${b}`)), ['']);
}

/** The pattern rule's path globs end in a plain file name (checked below); the path must end in it. */
function pathEndsLikeGlobs(globs: readonly string[]): (path: string) => boolean {
  const names = globs.map((glob) => {
    const name = glob.slice(glob.lastIndexOf('/') + 1).toLowerCase();
    if (name === '' || /[*?[\]{}()!+@]/.test(name))
      throw new Error(`pattern glob ${glob} does not end in a plain file name; give its trigger a path test`);
    return name;
  });
  return (path) => {
    const lower = path.toLowerCase();
    return names.some((name) => lower.endsWith(name));
  };
}

/** Literals of our pattern rules, by pattern name (SECRET_PATTERNS). */
const PATTERN_LITERALS: Record<string, readonly string[]> = {
  // eyJ…\.eyJ…
  jwt: ['.eyJ'],
  // "(auth|identitytoken|registrytoken)"\s*:\s*"…
  'docker-config-auth': ['"auth"', '"identitytoken"', '"registrytoken"'],
  // (^|\s)password[ \t]+…
  'netrc-password': ['password'],
  // _(auth|password)[ \t]*=…
  'npmrc-auth': ['_auth', '_password'],
};

const PATTERN_TRIGGERS: SecretTrigger[] = SECRET_PATTERNS.map((p) => {
  const literals = PATTERN_LITERALS[p.name];
  if (!literals) throw new Error(`pattern ${p.name} has no trigger literals in secret-triggers.ts`);
  return {
    rule: PATTERN_RULE,
    what: p.name,
    literals,
    ...(p.filePathGlobs ? { pathMayMatch: pathEndsLikeGlobs(p.filePathGlobs) } : {}),
  };
});

// The rule's regex in each comment; `(?<!\p{L})`, `\b` and the like only narrow a match, and the
// literal is the fixed text every match contains.
export const SECRET_TRIGGERS: readonly SecretTrigger[] = [
  // \b(A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16}\b. The account ID pattern
  // needs none: its messages are dropped (allowMessageIds).
  {
    rule: preset('aws'),
    what: 'AWSAccessKeyID',
    literals: ['A3T', 'AKIA', 'AGPA', 'AIDA', 'AROA', 'AIPA', 'ANPA', 'ANVA', 'ASIA'],
    // From the prefix: A3T and one more character, then 16.
    confirm: {
      pattern: /(?:A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16}/,
      before: 0,
      after: 17,
    },
  },
  // ["']?(AWS|aws|Aws)?_?(SECRET|secret|Secret)_?(ACCESS|access|Access)_?(KEY|key|Key)["']?\s*(:|=>|=)…
  {
    rule: preset('aws'),
    what: 'AWSSecretAccessKey',
    literals: combinations(['SECRET', 'secret', 'Secret'], ['', '_'], ['ACCESS', 'access', 'Access']),
    // From SECRET_ACCESS: then `_KEY` at most.
    confirm: {
      pattern: /(?:SECRET|secret|Secret)_?(?:ACCESS|access|Access)_?(?:KEY|key|Key)/,
      before: 0,
      after: 4,
    },
  },
  // Only for `.json` (syntheticSource's ext; `.p12` is never passed): JSON.parse(content) with a
  // "private_key_id" key. JSON can spell a key with \u escapes, so `\u` is a literal too.
  {
    rule: preset('gcp'),
    what: 'PrivateKeyJSON',
    literals: ['private_key_id', '\\u'],
    pathMayMatch: (path) => path.toLowerCase().endsWith('.json'),
  },
  // -----BEGIN[ ]?((RSA|DSA|EC|OPENSSH|PGP) )?PRIVATE KEY( BLOCK)?-----…
  {
    rule: preset('privatekey'),
    what: 'PrivateKey',
    literals: ['PRIVATE KEY'],
    // Up to `PRIVATE KEY`: `-----BEGIN OPENSSH ` at most before it.
    confirm: { pattern: /-----BEGIN ?(?:(?:RSA|DSA|EC|OPENSSH|PGP) )?PRIVATE KEY/, before: 19, after: 0 },
  },
  // https?:\/\/(.{1,256}):x-oauth-basic@github.com\/ (in package.json files)
  { rule: preset('npm'), what: 'PackageJSON_xOauthToken', literals: [':x-oauth-basic@github'] },
  // _authToken=([^$].*) (in .npmrc files)
  { rule: preset('npm'), what: 'Npmrc_authToken', literals: ['_authToken='] },
  // (?<!\p{L})npm_[A-Za-z0-9_]{36}(?![A-Za-z0-9_])
  {
    rule: preset('npm'),
    what: 'NPM_ACCESS_TOKEN',
    literals: ['npm_'],
    confirm: { pattern: /npm_[A-Za-z0-9_]{36}/, before: 0, after: 36 },
  },
  // (https?|ftp|ftps):\/\/([-a-zA-Z0-9_]{1,256}):([-a-zA-Z0-9_]{1,256})@…
  {
    rule: preset('basicauth'),
    what: 'BasicAuth',
    literals: ['http://', 'https://', 'ftp://', 'ftps://'],
    // From the literal's `://`: user, `:`, password, `@`, 514 bytes at most after the literal.
    confirm: { pattern: /:\/\/[-a-zA-Z0-9_]{1,256}:[-a-zA-Z0-9_]{1,256}@/, before: 0, after: 514 },
  },
  // \b(xoxb|xoxp|xapp|xoxa|xoxo|xoxr)-(\d-)?([a-zA-Z0-9]{1,40}-)+[a-zA-Z0-9]{1,40}\b
  {
    rule: preset('slack'),
    what: 'SLACK_TOKEN',
    literals: ['xoxb-', 'xoxp-', 'xapp-', 'xoxa-', 'xoxo-', 'xoxr-'],
  },
  // /https:\/\/hooks\.slack\.com\/services\/T…\/B…\/…/gi
  {
    rule: preset('slack'),
    what: 'IncomingWebhook',
    literals: ['hooks.slack.com/services/'],
    ignoreCase: true,
  },
  // (?<!\p{L})SG\.\w{1,128}\.\w{1,128}([-_]?)\w{1,128}(?!\w), 69 characters
  {
    rule: preset('sendgrid'),
    what: 'SENDGRID_KEY',
    literals: ['SG.'],
    confirm: { pattern: /SG\.\w{1,128}\./, before: 0, after: 129 },
  },
  // (?<!\p{L})(shppa|shpca|shpat|shpss)_[a-zA-Z0-9]{32,64}(?![a-zA-Z0-9])
  { rule: preset('shopify'), what: 'SHOPIFY_KEY', literals: withPrefix('shp', ['pa_', 'ca_', 'at_', 'ss_']) },
  // (?<!\p{L})(sk_live|sk_test|rk_live|rk_test)_[a-zA-Z0-9]{24,99}(?![a-zA-Z0-9])
  {
    rule: preset('stripe'),
    what: 'STRIPE_*_KEY_*',
    literals: combinations(['sk', 'rk'], ['_live_', '_test_']),
  },
  // (ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36}, github_pat_[A-Za-z0-9_]{82}, ghs_[0-9]{1,20}_…
  {
    rule: preset('github'),
    what: 'GITHUB_TOKEN',
    literals: [...withPrefix('gh', ['p_', 'o_', 'u_', 's_', 'r_']), 'github_pat_'],
  },
  // (?<!\p{L})glpat-[A-Za-z0-9_-]{20,128}(?![A-Za-z0-9_-])
  { rule: preset('gitlab'), what: 'GITLAB_PERSONAL_ACCESS_TOKEN', literals: ['glpat-'] },
  // glc_[A-Za-z0-9+/]{32,400}={0,2}, glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}
  { rule: preset('grafana'), what: 'GRAFANA_*_TOKEN', literals: ['glc_', 'glsa_'] },
  // sk-(proj|svcacct|admin)-(…)T3BlbkFJ(…)\b|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20}
  { rule: preset('openai'), what: 'OPENAI_TOKEN', literals: ['T3BlbkFJ'] },
  // (?<!\p{L})sk-ant-api0\d-[A-Za-z0-9_-]{90,128}AA(?![A-Za-z0-9_-])
  { rule: preset('anthropic'), what: 'ANTHROPIC_API_KEY', literals: ['sk-ant-api0'] },
  // (?<!\p{L})gsk_[a-zA-Z0-9]{52}(?![a-zA-Z0-9])
  { rule: preset('groq'), what: 'GROQ_API_KEY', literals: ['gsk_'] },
  // (?<!\p{L})hf_[a-zA-Z]{34}(?![a-zA-Z])
  {
    rule: preset('huggingface'),
    what: 'HUGGINGFACE_USER_ACCESS_TOKEN',
    literals: ['hf_'],
    confirm: { pattern: /hf_[a-zA-Z]{34}/, before: 0, after: 34 },
  },
  // (?<!\p{L})lin_api_[a-zA-Z0-9_]{32,128}(?![a-zA-Z0-9_])
  { rule: preset('linear'), what: 'LINEAR_API_TOKEN', literals: ['lin_api_'] },
  // (?<!\p{L})ntn_[0-9]{11}[A-Za-z0-9]{35}(?![A-Za-z0-9])
  { rule: preset('notion'), what: 'NOTION_INTEGRATION_TOKEN', literals: ['ntn_'] },
  // (?<!\p{L})ops_(ey[A-Za-z0-9+/=]{100,1280}fQ={0,2})(?![A-Za-z0-9+/=])
  { rule: preset('1password'), what: 'OPS_TOKEN', literals: ['ops_ey'] },
  // /mongodb(\+srv)?:\/\/…/gi, /(jdbc:)?mysql(x)?:\/\/…/gi, /postgres(ql)?:\/\/…/gi
  {
    rule: preset('database-connection-string'),
    what: '*Connection',
    literals: ['mongodb', 'mysql', 'postgres'],
    ignoreCase: true,
    // From the scheme's name: `+srv://` at most after it.
    confirm: { pattern: /(?:mongodb(?:\+srv)?|mysqlx?|postgres(?:ql)?):\/\//i, before: 0, after: 7 },
  },
  // (?<!\p{L})hv[sbr]\.[A-Za-z0-9_-]{90,300}(?![A-Za-z0-9_-])
  { rule: preset('hashicorp-vault'), what: 'HASHICORP_VAULT_*_TOKEN', literals: ['hvs.', 'hvb.', 'hvr.'] },
  // (?<!\p{L})(vcp|vci|vca|vcr|vck)_[A-Za-z0-9]{20,60}(?![A-Za-z0-9])
  {
    rule: preset('vercel'),
    what: 'VERCEL_*',
    literals: withPrefix('vc', ['p_', 'i_', 'a_', 'r_', 'k_']),
  },
  // (?<!\p{L})dapi[A-Fa-f0-9]{32}(-[0-9])?(?![A-Fa-f0-9])
  { rule: preset('databricks'), what: 'DATABRICKS_PERSONAL_ACCESS_TOKEN', literals: ['dapi'] },
  // (?<!\p{L})dckr_pat_[a-zA-Z0-9_-]{27}(?![a-zA-Z0-9_-])
  { rule: preset('docker'), what: 'DOCKER_PERSONAL_ACCESS_TOKEN', literals: ['dckr_pat_'] },
  // (?<!\p{L})figd_[A-Za-z0-9_-]{40,200}(?![A-Za-z0-9_-])
  { rule: preset('figma'), what: 'FIGMA_PERSONAL_ACCESS_TOKEN', literals: ['figd_'] },
  // (?<!\p{L})(cfk|cfut|cfat)_[A-Za-z0-9]{40}[0-9a-f]{8}(?![A-Za-z0-9])
  { rule: preset('cloudflare'), what: 'CLOUDFLARE_*', literals: ['cfk_', 'cfut_', 'cfat_'] },
  // (?<!\p{L})tskey-([a-z]{2,20})-[0-9A-Za-z_]{8,40}-[0-9A-Za-z_]{16,60}(?![0-9A-Za-z_])
  { rule: preset('tailscale'), what: 'TAILSCALE_*', literals: ['tskey-'] },
  ...PATTERN_TRIGGERS,
];
