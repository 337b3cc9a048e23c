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

export interface EntropyMatch {
  /** Offset of the value in the content. */
  index: number;
  value: string;
}

/** Every secret-looking name contains one of these (in any case): text without any skips the rule. */
export const SECRET_HINT_WORDS = ['secret', 'token', 'passw', 'pwd', 'credential', 'key'] as const;
const SECRET_HINT = new RegExp(SECRET_HINT_WORDS.join('|'), 'i');
// `=` or `:` followed by at least 16 value characters; the name is then read backwards. The
// value is taken greedily to its end and long ones are dropped in code: a bounded `{16,256}`
// with a lookahead backtracks at every position of a long run (`key=` followed by a megabyte of
// `=`), which made one small file cost seconds.
const VALUE_CHAR = '[^\\s"\'`,;(){}[\\]<>]';
const OPERATOR_THEN_VALUE = new RegExp(`[:=][ \\t]*["']?(${VALUE_CHAR}{16,})`, 'g');
const MAX_VALUE = 256;
const MAX_NAME = 64;
const SECRET_WORD =
  /secret|token|passw(?:or)?d|passwd|pwd|credential|api[_.-]?key|access[_.-]?key|private[_.-]?key|signing[_.-]?key|encryption[_.-]?key|(?:^|[_.-])key$/i;
const NOT_SECRET_SUFFIX =
  /[_.-](?:url|uri|file|path|dir|name|type|endpoint|id|length|len|size|ttl|expiry|expires|timeout|header|prefix|count|enabled)$|tokeni[sz]er|(?:public|pub|primary|sort|partition|cache|foreign|hash|lookup|group|idempotency|routing|shard)[_.-]?key$/i;
// camelCase forms of the same, which need case to tell `masterKey` from `monkey`.
const SECRET_CAMEL = /[a-z0-9](?:Secret|Token|Password|Key)$/;
const NOT_SECRET_CAMEL =
  /[a-z0-9](?:Url|Uri|File|Path|Dir|Name|Type|Endpoint|Id|Length|Size|Ttl|Header|Prefix|Count)$|(?:public|primary|sort|partition|cache|foreign|hash|lookup|group|idempotency|routing)Key$/;

/** Whether an assignment's name says it holds a secret. */
export function isSecretName(name: string): boolean {
  return (
    (SECRET_WORD.test(name) || SECRET_CAMEL.test(name)) &&
    !NOT_SECRET_SUFFIX.test(name) &&
    !NOT_SECRET_CAMEL.test(name)
  );
}
const PLACEHOLDER = /changeme|example|placeholder|your[_-]|xxxx|redacted|dummy|sample|\*\*\*/i;
const DOTTED_IDENTIFIER = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/;

function looksRandom(value: string): boolean {
  if (!/[0-9]/.test(value) || !/[A-Za-z]/.test(value)) return false;
  if (/^[0-9a-f]+$/i.test(value)) return value.length >= 32 && shannonEntropy(value) >= 3;
  return shannonEntropy(value) >= 3.5;
}

/**
 * Values of at least 16 characters that look random, assigned to a name that looks like it holds a
 * secret. Paths, URLs, templates, placeholders and references to other variables are left alone.
 */
export function findHighEntropyAssignments(content: string): EntropyMatch[] {
  return SECRET_HINT.test(content) ? assignmentsIn(content) : [];
}

export interface EntropySpanMatch {
  /** 1-based line number. */
  line: number;
  value: string;
}

/**
 * ASCII characters no part of an assignment the entropy rule reports can hold (not a value
 * character, blank, quote, operator or name character) and that always stand for themselves in
 * UTF-8: text between two of them can be read on its own.
 */
export const ASSIGNMENT_BREAKS = '\n\v\f\r`,;(){}[]<>';

const NEWLINE = 0x0a;

/**
 * `findHighEntropyAssignments` on the UTF-8 text of `bytes`, reading only the given spans: `spans`
 * holds `[start, end)` byte offsets, in order, each starting after an ASSIGNMENT_BREAK (or at 0)
 * and ending at one (or at the end). Given spans that hold every hint word, it finds exactly what
 * the whole text gives: no reported assignment crosses a break (so the regex's matches in a span
 * are those of the whole text, and the name read back from an operator stays in its span), every
 * secret-looking name holds a hint word, and a break byte is that character in the text, so a
 * span's bytes decode to that piece of the text.
 */
export function findHighEntropyAssignmentsInSpans(
  bytes: Buffer,
  spans: readonly number[],
): EntropySpanMatch[] {
  const found: EntropySpanMatch[] = [];
  // Line numbers are counted only when something is found, which is rare.
  let counted = 0;
  let line = 1;
  for (let i = 0; i + 1 < spans.length; i += 2) {
    const [start, end] = [spans[i], spans[i + 1]];
    const text = bytes.toString('utf8', start, end);
    const matches = assignmentsIn(text);
    if (matches.length === 0) continue;
    for (
      let nl = bytes.indexOf(NEWLINE, counted);
      nl !== -1 && nl < start;
      nl = bytes.indexOf(NEWLINE, nl + 1)
    )
      line += 1;
    counted = start;
    for (const m of matches) found.push({ line: line + lineBreaksIn(text, m.index), value: m.value });
  }
  return found;
}

function lineBreaksIn(text: string, before: number): number {
  let count = 0;
  for (let nl = text.indexOf('\n'); nl !== -1 && nl < before; nl = text.indexOf('\n', nl + 1)) count += 1;
  return count;
}

/** The assignments of the entropy rule in `text`, without the hint-word gate. */
function assignmentsIn(text: string): EntropyMatch[] {
  const found: EntropyMatch[] = [];
  for (const m of text.matchAll(OPERATOR_THEN_VALUE)) {
    const value = m[1];
    if (value.length > MAX_VALUE) continue;
    const name = nameBefore(text, m.index);
    if (!name || !SECRET_HINT.test(name) || !isSecretName(name)) continue;
    if (/^[/~.$%]/.test(value) || value.includes('://') || value.includes('${') || value.includes('{{'))
      continue;
    if (PLACEHOLDER.test(value) || DOTTED_IDENTIFIER.test(value) || !looksRandom(value)) continue;
    found.push({ index: m.index + m[0].length - value.length, value });
  }
  return found;
}

/** The name assigned to at `operator`: `NAME = `, `"name": `, `name:`; undefined when there is none. */
function nameBefore(content: string, operator: number): string | undefined {
  let end = operator;
  while (end > 0 && (content[end - 1] === ' ' || content[end - 1] === '\t')) end -= 1;
  if (end > 0 && (content[end - 1] === '"' || content[end - 1] === "'")) end -= 1;
  let start = end;
  while (start > 0 && end - start <= MAX_NAME && isNameChar(content.charCodeAt(start - 1))) start -= 1;
  if (end - start > MAX_NAME) return undefined;
  // Skip leading characters that cannot start a name (`.5e`, `-x`).
  while (start < end && !isLetter(content.charCodeAt(start))) start += 1;
  return start < end ? content.slice(start, end) : undefined;
}

const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
// Letters, digits, `_`, `.`, `-`.
const isNameChar = (c: number) => isLetter(c) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;
