// The rules of the secret scan: the rules of secretlint's recommended preset (AWS key IDs on,
// in-file `secretlint-disable` comments off), pattern rules for what the preset lacks (JWTs, registry and
// npm credentials in their config files, .netrc passwords), and a small entropy rule for
// secret-looking assignments (`SECRET_KEY=…`, `"client_secret": "…"`).
import { type lintSource } from '@secretlint/core';
import { shannonEntropy } from './secret-rule';
import { creator as patternRule } from '@secretlint/secretlint-rule-pattern';
import { rules as recommendedRules } from '@secretlint/secretlint-rule-preset-recommend';

export { shannonEntropy };

export type SecretlintConfig = Parameters<typeof lintSource>[0]['options']['config'];

/** Our pattern rules; the name is the second half of the finding's rule id (`pattern/<name>`). */
export const SECRET_PATTERNS = [
  {
    name: 'jwt',
    // header.payload.signature, each base64url; both JSON parts start with `{"` (eyJ).
    patterns: [
      String.raw`/(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/`,
    ],
  },
  {
    name: 'docker-config-auth',
    filePathGlobs: ['**/.docker/config.json', '**/.dockercfg'],
    patterns: [String.raw`/(?<="(?:auth|identitytoken|registrytoken)"\s*:\s*")[^"\s]{8,}(?=")/`],
  },
  {
    name: 'netrc-password',
    filePathGlobs: ['**/.netrc', '**/_netrc'],
    patterns: [String.raw`/(?<=(?:^|\s)password[ \t]+)[^\s]+/m`],
  },
  {
    name: 'npmrc-auth',
    filePathGlobs: ['**/.npmrc'],
    // `_authToken` is the preset's; `_auth` (base64 user:password) and `_password` are ours.
    patterns: [String.raw`/(?<=(?:^|[\s:])_(?:auth|password)[ \t]*=[ \t]*)[^\s]+/m`],
  },
];

const FILTER_COMMENTS = '@secretlint/secretlint-rule-filter-comments';
const AWS = '@secretlint/secretlint-rule-aws';

/**
 * The preset's rules registered one by one rather than as the preset: @secretlint/core 13 ignores
 * `disabled` on a rule inside a preset, and `filter-comments` must not run (an image must not be
 * able to silence its own scan with `secretlint-disable` comments).
 */
export const SECRETLINT_CONFIG: SecretlintConfig = {
  rules: [
    ...recommendedRules
      .filter((rule) => rule.meta.id !== FILTER_COMMENTS)
      .map((rule) =>
        rule.meta.id === AWS
          ? // Account IDs are identifiers, not credentials.
            { id: AWS, rule, options: { enableIDScanRule: true }, allowMessageIds: ['AWSAccountID'] }
          : { id: rule.meta.id, rule },
      ),
    { id: '@secretlint/secretlint-rule-pattern', rule: patternRule, options: { patterns: SECRET_PATTERNS } },
  ],
};

type SecretlintRuleEntry = SecretlintConfig['rules'][number];

/** Ids of the secretlint rules in SECRETLINT_CONFIG, in their order. */
export const SECRETLINT_RULE_IDS: readonly string[] = SECRETLINT_CONFIG.rules.map((r) => r.id);

// A file that can match a few rules runs only those; the same few sets come back again and again.
const MAX_CACHED_CONFIGS = 256;
const configsByRules = new Map<string, SecretlintConfig>();

/**
 * SECRETLINT_CONFIG with only the rules in `ruleIds`, in the same order. A rule's reports do not
 * depend on the other rules (none of them filters or ignores another's messages, `filter-comments`
 * being left out), and secretlint sorts messages stably by position, so the messages of a subset
 * are those of the whole config for the rules in it, in the same order.
 */
export function secretlintConfigFor(ruleIds: ReadonlySet<string>): SecretlintConfig {
  const rules: SecretlintRuleEntry[] = SECRETLINT_CONFIG.rules.filter((r) => ruleIds.has(r.id));
  const key = rules.map((r) => r.id).join('\n');
  let config = configsByRules.get(key);
  if (!config) {
    config = { ...SECRETLINT_CONFIG, rules };
    if (configsByRules.size >= MAX_CACHED_CONFIGS) configsByRules.clear();
    configsByRules.set(key, config);
  }
  return config;
}

/** What a finding is, by rule id; anything else falls back to its message id. */
export const RULE_TITLES: Record<string, string> = {
  'aws/AWSAccessKeyID': 'AWS access key ID',
  'aws/AWSSecretAccessKey': 'AWS secret access key',
  'privatekey/PrivateKey': 'private key',
  'gcp/PrivateKeyJSON': 'GCP service account key',
  'github/GITHUB_TOKEN': 'GitHub token',
  'gitlab/GITLAB_PERSONAL_ACCESS_TOKEN': 'GitLab personal access token',
  'npm/Npmrc_authToken': 'npm auth token in .npmrc',
  'npm/NPM_ACCESS_TOKEN': 'npm access token',
  'npm/PackageJSON_xOauthToken': 'GitHub token in package.json',
  'basicauth/BasicAuth': 'password in a URL',
  'slack/SLACK_TOKEN': 'Slack token',
  'slack/IncomingWebhook': 'Slack incoming webhook URL',
  'docker/DOCKER_PERSONAL_ACCESS_TOKEN': 'Docker Hub personal access token',
  'pattern/jwt': 'JSON Web Token',
  'pattern/docker-config-auth': 'registry credentials in .docker/config.json',
  'pattern/netrc-password': 'password in .netrc',
  'pattern/npmrc-auth': 'npm credentials in .npmrc',
  'entropy/assignment': 'high-entropy value assigned to a secret-looking name',
};

export {
  ASSIGNMENT_BREAKS,
  type EntropyMatch,
  type EntropySpanMatch,
  findHighEntropyAssignments,
  findHighEntropyAssignmentsInSpans,
  isSecretName,
  judgeAssignedValue,
  SECRET_HINT_WORDS,
} from './assignment-rule';
