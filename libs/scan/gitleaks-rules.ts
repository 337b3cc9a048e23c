// Operators' own rules, in gitleaks's TOML rule format, so an organisation reuses the rule files it
// already keeps: `[[rules]]` with id, description, regex, secretGroup, entropy, keywords, path,
// allowlists (and v7's single `allowlist`), plus a file-wide `[allowlist]`/`[[allowlists]]` that
// applies to every rule of the file. Checked at load, every problem at once: unknown fields, RE2
// syntax (re2js: no lookaround, no backreferences), keywords. A rule file is one set, named after
// the file (`acme.toml` → set `acme`, finding ids `acme/<rule id>`); a policy names the sets it uses.
//
// Differences from gitleaks, on purpose: `[extend]` (building on gitleaks's defaults) is refused,
// as the built-in rules are ours; a rule looks at the text from 256 bytes before one of its
// keywords to 1100 after (secret-rule-runner.ts); `regexTarget` and `condition` work as in gitleaks.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import {
  compileSecretRules,
  type CompiledSecretRule,
  type SecretRuleAllowlist,
  SecretRuleError,
  type SecretRuleSpec,
} from './secret-rule';

/** A rule set's name: the file name without `.toml`. */
export const RULE_SET_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const MAX_RULE_FILE_BYTES = 4 * 1024 * 1024;
const MAX_RULES = 2000;

const RULE_FIELDS = new Set([
  'id',
  'description',
  'regex',
  'secretGroup',
  'entropy',
  'keywords',
  'path',
  'allowlist',
  'allowlists',
  'tags',
]);
const ALLOWLIST_FIELDS = new Set([
  'description',
  'condition',
  'regexTarget',
  'regexes',
  'paths',
  'stopwords',
  'commits',
]);
const TOP_FIELDS = new Set(['title', 'description', 'rules', 'allowlist', 'allowlists']);

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v);

function strings(v: unknown, where: string, problems: string[]): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    problems.push(`${where}: must be an array of strings`);
    return undefined;
  }
  return v;
}

function allowlistOf(v: unknown, where: string, problems: string[]): SecretRuleAllowlist | undefined {
  if (!isTable(v)) {
    problems.push(`${where}: must be a table`);
    return undefined;
  }
  for (const k of Object.keys(v))
    if (!ALLOWLIST_FIELDS.has(k)) problems.push(`${where}: unknown field "${k}"`);
  const condition = typeof v.condition === 'string' ? v.condition.toUpperCase() : v.condition;
  if (condition !== undefined && condition !== 'OR' && condition !== 'AND')
    problems.push(`${where}: condition must be OR or AND`);
  const target = v.regexTarget;
  if (target !== undefined && target !== 'secret' && target !== 'match' && target !== 'line')
    problems.push(`${where}: regexTarget must be secret, match or line`);
  // `commits` name git commits: an image has none, so they allow nothing here.
  return {
    ...(typeof v.description === 'string' ? { description: v.description } : {}),
    ...(condition === 'OR' || condition === 'AND' ? { condition } : {}),
    ...(target ? { regexTarget: target as 'secret' | 'match' | 'line' } : {}),
    ...(v.regexes !== undefined ? { regexes: strings(v.regexes, `${where} regexes`, problems) ?? [] } : {}),
    ...(v.paths !== undefined ? { paths: strings(v.paths, `${where} paths`, problems) ?? [] } : {}),
    ...(v.stopwords !== undefined
      ? { stopwords: strings(v.stopwords, `${where} stopwords`, problems) ?? [] }
      : {}),
  };
}

function allowlistsOf(table: Table, where: string, problems: string[]): SecretRuleAllowlist[] {
  const lists: SecretRuleAllowlist[] = [];
  if (table.allowlist !== undefined) {
    const a = allowlistOf(table.allowlist, `${where} allowlist`, problems);
    if (a) lists.push(a);
  }
  if (table.allowlists !== undefined) {
    if (!Array.isArray(table.allowlists)) problems.push(`${where} allowlists: must be an array of tables`);
    else
      table.allowlists.forEach((a, i) => {
        const list = allowlistOf(a, `${where} allowlists[${i}]`, problems);
        if (list) lists.push(list);
      });
  }
  return lists;
}

/**
 * The rules of one gitleaks TOML file, as specs (not compiled). Throws a SecretRuleError listing
 * every problem of the file.
 */
export function parseGitleaksRules(set: string, toml: string): SecretRuleSpec[] {
  let doc: Table;
  try {
    doc = parseToml(toml);
  } catch (e) {
    throw new SecretRuleError([`${set}: not valid TOML: ${(e as Error).message.split('\n')[0]}`]);
  }
  const problems: string[] = [];
  if (doc.extend !== undefined)
    problems.push(
      `${set}: [extend] is not supported: the built-in rules are Airlock's own; list your rules in full`,
    );
  for (const k of Object.keys(doc))
    if (!TOP_FIELDS.has(k) && k !== 'extend') problems.push(`${set}: unknown field "${k}"`);
  const fileAllowlists = allowlistsOf(doc, set, problems);
  const rules = doc.rules ?? [];
  if (!Array.isArray(rules)) {
    problems.push(`${set}: rules must be an array of tables ([[rules]])`);
    throw new SecretRuleError(problems);
  }
  if (rules.length > MAX_RULES) problems.push(`${set}: more than ${MAX_RULES} rules`);
  const specs: SecretRuleSpec[] = [];
  rules.forEach((r, i) => {
    const where = `${set}: rule ${isTable(r) && typeof r.id === 'string' ? JSON.stringify(r.id) : `#${i + 1}`}`;
    if (!isTable(r)) {
      problems.push(`${where}: must be a table`);
      return;
    }
    for (const k of Object.keys(r)) if (!RULE_FIELDS.has(k)) problems.push(`${where}: unknown field "${k}"`);
    for (const k of ['id', 'description', 'regex', 'path'] as const)
      if (r[k] !== undefined && typeof r[k] !== 'string') problems.push(`${where}: ${k} must be a string`);
    for (const k of ['secretGroup', 'entropy'] as const)
      if (r[k] !== undefined && typeof r[k] !== 'number') problems.push(`${where}: ${k} must be a number`);
    const keywords = strings(r.keywords, `${where} keywords`, problems);
    specs.push({
      id: typeof r.id === 'string' ? r.id : '',
      description:
        typeof r.description === 'string' && r.description
          ? r.description
          : typeof r.id === 'string'
            ? r.id
            : 'secret',
      ...(typeof r.regex === 'string' ? { regex: r.regex } : {}),
      ...(typeof r.secretGroup === 'number' ? { secretGroup: r.secretGroup } : {}),
      ...(typeof r.entropy === 'number' ? { entropy: r.entropy } : {}),
      ...(keywords ? { keywords } : {}),
      ...(typeof r.path === 'string' ? { path: r.path } : {}),
      allowlists: [...allowlistsOf(r, where, problems), ...fileAllowlists],
    });
  });
  if (problems.length > 0) throw new SecretRuleError(problems);
  return specs;
}

/** One gitleaks TOML file, parsed and compiled (SecretRuleError with every problem otherwise). */
export function compileGitleaksRules(set: string, toml: string): CompiledSecretRule[] {
  return compileSecretRules(set, parseGitleaksRules(set, toml));
}

/** A rule set as loaded: its file's text (what a scan process compiles again) and its rules. */
export interface GitleaksRuleSet {
  toml: string;
  rules: readonly CompiledSecretRule[];
}

/**
 * Every `*.toml` file of a folder, each a rule set named after the file. Read once, at boot: a bad
 * file stops the process with every problem of every file.
 */
export function readGitleaksRuleSets(dir: string): Map<string, GitleaksRuleSet> {
  const sets = new Map<string, GitleaksRuleSet>();
  const problems: string[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.toml')) continue;
    const name = file.slice(0, -'.toml'.length);
    const path = join(dir, file);
    if (!RULE_SET_NAME.test(name)) {
      problems.push(`${path}: a rule set's file name must match ${RULE_SET_NAME.source} before .toml`);
      continue;
    }
    if (statSync(path).size > MAX_RULE_FILE_BYTES) {
      problems.push(`${path}: larger than ${MAX_RULE_FILE_BYTES} bytes`);
      continue;
    }
    try {
      const toml = readFileSync(path, 'utf8');
      sets.set(name, { toml, rules: compileGitleaksRules(name, toml) });
    } catch (e) {
      if (e instanceof SecretRuleError) problems.push(...e.problems.map((p) => `${path}: ${p}`));
      else throw e;
    }
  }
  if (problems.length > 0) throw new SecretRuleError(problems);
  return sets;
}

/** readGitleaksRuleSets, the rules only. */
export function loadGitleaksRuleSets(dir: string): Map<string, readonly CompiledSecretRule[]> {
  return new Map([...readGitleaksRuleSets(dir)].map(([name, set]) => [name, set.rules]));
}
