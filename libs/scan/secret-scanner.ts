// Scans one file's content in memory for credentials. A finding carries where the secret is, which
// rule found it, a fingerprint and a masked preview; the secret itself never leaves this module
// (secretlint's messages repeat it verbatim, so they are read for their data and dropped).
import { createHash, createHmac } from 'node:crypto';
import { lintSource } from '@secretlint/core';
import { secretLintProfiler } from '@secretlint/profiler';
import { PROVIDER_RULE_SET } from './provider-rule-set';
import { failsTokenChecksum, implausibleToken, isPlaceholder } from './secret-placeholders';
import { DEFAULT_PREFILTER, SecretPrefilter } from './secret-prefilter';
import { type CompiledSecretRule, pathOnlyRules, ruleAppliesToPath } from './secret-rule';
import { type RuleFile, ruleFile, runSecretRule } from './secret-rule-runner';
import {
  findHighEntropyAssignments,
  findHighEntropyAssignmentsInSpans,
  RULE_TITLES,
  SECRETLINT_CONFIG,
  type SecretlintConfig,
  secretlintConfigFor,
} from './secret-rules';

// On by default, the profiler keeps a performance mark per rule and file forever: about 11 KB of
// heap per file scanned, and a third of the speed.
secretLintProfiler.setEnabled(false);

export interface SecretFinding {
  /** `<secretlint rule>/<message id>`, `pattern/<name>` or `entropy/assignment`. */
  rule: string;
  /** What was found, in words. */
  title: string;
  /** Digest of the layer that holds the file. */
  layer: string;
  path: string;
  line?: number;
  /** First 16 hex characters of the secret's sha256: the same secret found twice matches. */
  fingerprint: string;
  /** A few characters of the secret at most, the rest masked. */
  preview: string;
  fix: string;
  /** Digest of a later layer whose whiteout deletes the file (it is still in the image). */
  deletedIn?: string;
}

export type SecretLintSource = Parameters<typeof lintSource>[0]['source'];

/**
 * Prefixes the path secretlint sees. The GCP rule reads the host file at `filePath` when `ext` is
 * `.p12`; we never pass that ext, tell secretlint there is no physical file, and a path with a NUL
 * byte cannot be opened by any `fs` call. Rules that look at names (`.npmrc`, the pattern rule's
 * globs) still see the layer path after the prefix.
 */
export const SYNTHETIC_PATH_PREFIX = '\0layer/';

export function syntheticSource(path: string, content: string): SecretLintSource {
  // Only `.json` changes what a rule does (the GCP service-account key check).
  const ext = path.toLowerCase().endsWith('.json') ? '.json' : '';
  return { filePath: `${SYNTHETIC_PATH_PREFIX}${path}`, ext, content, contentType: 'text' };
}

/**
 * Names a secret without revealing it. With a key (a deployment's own), an HMAC: a stored
 * fingerprint of a weak password cannot be brute-forced by whoever reads findings or the audit
 * trail without that key. Without one (tests, tools), a bare sha256.
 */
export function fingerprintSecret(secret: string, key?: Buffer): string {
  const digest = key ? createHmac('sha256', key) : createHash('sha256');
  return digest.update(secret, 'utf8').digest('hex').slice(0, 16);
}

/**
 * A preview that helps find the secret without giving it away: for values of 20 characters or
 * more, the first and last 4 (a token's type prefix, mostly); a private key shows its BEGIN line;
 * a URL shows everything but its password; anything shorter is all mask.
 */
export function maskSecret(secret: string): string {
  const pem = /^-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/.exec(secret);
  if (pem) return `${pem[0]} ****`;
  const url = /^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s]+(@.*)$/i.exec(secret);
  if (url) return `${url[1]}****${url[2]}`.slice(0, 120);
  if (secret.length >= 20) return `${secret.slice(0, 4)}…${secret.slice(-4)} ****`;
  return '****';
}

export function fixFor(path: string): string {
  return `remove ${path} from the image (a later layer deleting it does not remove it from earlier layers) and rotate the credential`;
}

const ENTROPY_RULE = 'entropy/assignment';

/** Keys of secretlint message data that hold the matched secret (others are labels). */
const SECRET_DATA_KEYS = ['KEY', 'TOKEN', 'ID', 'CREDENTIAL', 'URI', 'URL'];

function shortRuleId(ruleId: string): string {
  return ruleId.replace(/^@secretlint\/secretlint-rule-/, '');
}

function lineAt(content: string, index: number): number {
  let line = 1;
  for (let i = content.indexOf('\n'); i !== -1 && i < index; i = content.indexOf('\n', i + 1)) line += 1;
  return line;
}

interface RawMatch {
  rule: string;
  /** What was found, when the rule says (table rules); else RULE_TITLES. */
  title?: string;
  secret: string;
  index: number;
  /** When known without `index` (the entropy rule reading spans of bytes). */
  line?: number;
}

type LintMessage = Awaited<ReturnType<typeof lintSource>>['messages'][number];

/**
 * The secret a secretlint message is about. Its `range` is not always the secret (the AWS secret
 * and `.npmrc` token rules start it at the key name), so the value is taken from the message data
 * and found again in the content; the range is the fallback.
 */
function secretOf(message: LintMessage, content: string): RawMatch {
  const [start, end] = message.range;
  const short = shortRuleId(message.ruleId);
  const data = (message.data ?? {}) as Record<string, unknown>;
  const rule =
    short === 'pattern' && typeof data.PATTERN_NAME === 'string'
      ? `pattern/${data.PATTERN_NAME}`
      : `${short}/${message.messageId}`;
  if (message.messageId === 'PrivateKeyJSON') {
    try {
      const parsed = JSON.parse(content) as { private_key?: unknown };
      if (typeof parsed.private_key === 'string')
        return { rule, secret: parsed.private_key, index: Math.max(content.indexOf('"private_key"'), 0) };
    } catch {
      // fall through to the range
    }
  }
  for (const key of SECRET_DATA_KEYS) {
    const value = data[key];
    if (typeof value !== 'string' || value.length === 0) continue;
    const index = content.indexOf(value, start);
    if (index !== -1 && index <= end) return { rule, secret: value, index };
  }
  return { rule, secret: content.slice(start, end), index: start };
}

export interface ScanFileOptions {
  /**
   * Run only the rules that could report something in the file (secret-prefilter.ts). Default
   * true; false runs every rule on every file, as the reference the filtered scan is tested against.
   */
  prefilter?: boolean;
  /** The deployment's key for fingerprints (see fingerprintSecret). */
  fingerprintKey?: Buffer;
  /**
   * Rules added to the built-in ones (an operator's rule files, gitleaks-rules.ts), compiled. Keep
   * the same array for a whole scan: its pre-filter is built once per array.
   */
  extraRules?: readonly CompiledSecretRule[];
}

const prefilters = new WeakMap<readonly CompiledSecretRule[], SecretPrefilter>();

function prefilterFor(extra: readonly CompiledSecretRule[] | undefined): SecretPrefilter {
  if (!extra || extra.length === 0) return DEFAULT_PREFILTER;
  let prefilter = prefilters.get(extra);
  if (!prefilter) {
    prefilter = new SecretPrefilter([...PROVIDER_RULE_SET, ...extra]);
    prefilters.set(extra, prefilter);
  }
  return prefilter;
}

/** `keywordsAt[i]`: where `rules[i]`'s keywords are (the pre-filter's); absent, they are searched for. */
function tableMatches(
  rules: readonly CompiledSecretRule[],
  path: string,
  file: RuleFile,
  keywordsAt?: readonly (readonly number[])[],
): RawMatch[] {
  const matches: RawMatch[] = [];
  rules.forEach((rule, i) => {
    for (const m of runSecretRule(rule, path, file, keywordsAt?.[i]))
      matches.push({
        rule: m.ruleId,
        title: rule.spec.description,
        secret: m.secret,
        index: -1,
        line: m.line,
      });
  });
  return matches;
}

/**
 * Findings of the rules on the path alone (a PKCS#12 key store): the file is the secret. Also
 * called for binary files, which are not read.
 */
export function pathFindings(
  path: string,
  layer: string,
  options: Pick<ScanFileOptions, 'extraRules' | 'fingerprintKey'> = {},
): SecretFinding[] {
  return pathOnlyRules(prefilterFor(options.extraRules).pathOnly, path).map((rule) => ({
    rule: rule.ruleId,
    title: rule.spec.description,
    layer,
    path,
    fingerprint: fingerprintSecret(`${rule.ruleId}\0${path}`, options.fingerprintKey),
    preview: path.slice(path.lastIndexOf('/') + 1),
    fix: fixFor(path),
  }));
}

/** Not a finding whatever rule found it: a placeholder, or a token whose checksum fails. */
function notASecret(secret: string): boolean {
  // In a URL with credentials only the password says whether it is an example (a real one can
  // point at example.com in a test of its own).
  const password = /^[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:([^@\s]+)@/i.exec(secret)?.[1];
  return isPlaceholder(password ?? secret) || failsTokenChecksum(secret) || implausibleToken(secret);
}

async function secretlintMatches(
  path: string,
  content: string,
  config: SecretlintConfig,
): Promise<RawMatch[]> {
  const result = await lintSource({
    source: syntheticSource(path, content),
    options: { config, noPhysicFilePath: true },
  });
  return result.messages.map((m) => secretOf(m, content));
}

/** Every rule on the whole text: the reference the planned scan is tested against. */
async function everyRule(
  path: string,
  file: RuleFile,
  tableRules: readonly CompiledSecretRule[],
): Promise<RawMatch[]> {
  const content = file.text();
  const matches = await secretlintMatches(path, content, SECRETLINT_CONFIG);
  matches.push(
    ...tableMatches(
      tableRules.filter((r) => ruleAppliesToPath(r, path)),
      path,
      file,
    ),
  );
  for (const m of findHighEntropyAssignments(content))
    matches.push({ rule: ENTROPY_RULE, secret: m.value, index: m.index });
  return matches;
}

/** Only the rules that could report something in the file (secret-prefilter.ts). */
async function plannedRules(path: string, file: RuleFile, prefilter: SecretPrefilter): Promise<RawMatch[]> {
  const { bytes } = file;
  const plan = prefilter.plan(path, bytes);
  // Most files: no secretlint rule can match, and the text is never decoded (table rules decode
  // the windows around their keywords).
  const matches =
    plan.rules.size > 0 ? await secretlintMatches(path, file.text(), secretlintConfigFor(plan.rules)) : [];
  if (plan.tableRules.length > 0) matches.push(...tableMatches(plan.tableRules, path, file, plan.keywordsAt));
  for (const m of findHighEntropyAssignmentsInSpans(bytes, plan.entropySpans))
    matches.push({ rule: ENTROPY_RULE, secret: m.value, index: -1, line: m.line });
  return matches;
}

/**
 * Every credential in one file. The content is scanned as UTF-8 text (a string as its UTF-8
 * encoding, so a lone surrogate reads as U+FFFD).
 */
export async function scanFileForSecrets(
  file: { path: string; content: Buffer | string },
  layer: string,
  options: ScanFileOptions = {},
): Promise<SecretFinding[]> {
  const bytes = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : file.content;
  let decoded: string | undefined;
  const text = (): string => (decoded ??= bytes.toString('utf8'));
  const prefilter = prefilterFor(options.extraRules);
  const rulesRead = ruleFile(bytes, text);
  const matches =
    options.prefilter === false
      ? await everyRule(file.path, rulesRead, prefilter.tableRules)
      : await plannedRules(file.path, rulesRead, prefilter);
  const findings: SecretFinding[] = pathFindings(file.path, layer, options);
  const seen = new Set<string>();
  for (const m of matches) {
    if (notASecret(m.secret)) continue;
    const fingerprint = fingerprintSecret(m.secret, options.fingerprintKey);
    // The same value found by two rules (an AWS secret is also a high-entropy assignment) once.
    if (seen.has(fingerprint)) continue;
    seen.add(fingerprint);
    findings.push({
      rule: m.rule,
      title: m.title ?? RULE_TITLES[m.rule] ?? m.rule.split('/').pop()!.replace(/_/g, ' '),
      layer,
      path: file.path,
      line: m.line ?? lineAt(text(), m.index),
      fingerprint,
      preview: maskSecret(m.secret),
      fix: fixFor(file.path),
    });
  }
  return findings;
}
