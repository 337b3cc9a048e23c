import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/** A mistake in how the CLI was called: reported with a pointer to --help, exit 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Options every command accepts (before or after the command words). */
export const GLOBAL_OPTIONS = {
  server: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  json: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

export const GLOBAL_OPTIONS_HELP: Array<[string, string]> = [
  ['--server <url>', 'Airlock API (default: $AIRLOCK_SERVER or http://127.0.0.1:8080)'],
  ['--token-file <path>', 'read the bearer token from a file (re-read on every request)'],
  ['--token <jwt>', 'bearer token (prefer $AIRLOCK_TOKEN or --token-file: argv is visible to ps)'],
  ['--json, -o json', 'print the result as JSON on stdout (--output text is the default)'],
  ['-h, --help', 'show help'],
];

export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

export interface ParsedArgs {
  values: ParsedValues;
  positionals: string[];
}

/**
 * Splits argv into the command words (`promote`, `promotions list`) and the rest. Global options
 * may come before the command; a word counts as a command word while `wantsMore` says the words so
 * far name a group that needs a sub-command.
 */
export function splitCommand(
  argv: readonly string[],
  wantsMore: (words: readonly string[]) => boolean,
): { words: string[]; rest: string[] } {
  const valued = new Set(
    Object.entries(GLOBAL_OPTIONS)
      .filter(([, o]) => o.type === 'string')
      .flatMap(([name, o]) => ['short' in o ? `-${o.short}` : [], `--${name}`].flat()),
  );
  const words: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg.startsWith('-') && arg !== '-') {
      rest.push(arg);
      if (valued.has(arg) && i + 1 < argv.length) rest.push(argv[++i]);
      continue;
    }
    if (words.length === 0 || wantsMore(words)) words.push(arg);
    else rest.push(arg);
  }
  return { words, rest };
}

/** parseArgs with the global options added, strict, and its errors turned into usage errors. */
export function parseCommandArgs(args: readonly string[], options: ParseArgsOptionsConfig): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { ...GLOBAL_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: withOutputFormat(values), positionals };
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError(e instanceof Error ? e.message : String(e));
  }
}

/** `--output json` (or `-o json`) is `--json`, the spelling kubectl and gh users reach for. */
function withOutputFormat(values: ParsedValues): ParsedValues {
  const output = values.output;
  if (output === undefined) return values;
  if (output !== 'json' && output !== 'text') {
    throw new UsageError(`--output: "${String(output)}" is not a format (json or text)`);
  }
  if (output === 'text' && values.json === true)
    throw new UsageError('give --json or --output text, not both');
  return { ...values, json: output === 'json' };
}

export function stringOption(values: ParsedValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function requiredOption(values: ParsedValues, name: string): string {
  const v = stringOption(values, name);
  if (v === undefined || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30m`, `90s`, `1h30m`, `500ms`; a bare number is seconds. Returns milliseconds. */
export function parseDuration(text: string, option = 'timeout'): number {
  const bad = (): never => {
    throw new UsageError(`--${option}: "${text}" is not a duration (examples: 30m, 90s, 1h30m)`);
  };
  const trimmed = text.trim();
  let total = 0;
  if (/^\d+$/.test(trimmed)) total = Number(trimmed) * 1000;
  else if (!/^(\d+(ms|s|m|h))+$/.test(trimmed)) return bad();
  else {
    for (const [, amount, unit] of trimmed.matchAll(/(\d+)(ms|s|m|h)/g)) {
      total += Number(amount) * DURATION_UNITS[unit];
    }
  }
  if (total <= 0 || !Number.isSafeInteger(total)) return bad();
  return total;
}

/** Repeated `--metadata key=value` into an object; a key given twice is a mistake. */
export function parseMetadata(pairs: readonly string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const metadata: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--metadata: "${pair}" is not key=value`);
    const key = pair.slice(0, eq);
    if (Object.hasOwn(metadata, key)) throw new UsageError(`--metadata: key "${key}" is given twice`);
    metadata[key] = pair.slice(eq + 1);
  }
  return metadata;
}

export function parsePositiveInt(text: string, option: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new UsageError(`--${option}: must be a whole number from 1 to ${max}`);
  }
  return Number(text);
}

/** Values that must never be printed: the token from argv or the environment. */
export function secretsIn(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const secrets: string[] = [];
  argv.forEach((arg, i) => {
    if (arg === '--token' && i + 1 < argv.length) secrets.push(argv[i + 1]);
    else if (arg.startsWith('--token=')) secrets.push(arg.slice('--token='.length));
  });
  // The CI's credentials too: GitHub's request token, GitLab's id_tokens variable.
  for (const name of [
    'AIRLOCK_TOKEN',
    'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
    env.AIRLOCK_ID_TOKEN_VARIABLE?.trim() || 'AIRLOCK_ID_TOKEN',
  ]) {
    const value = env[name];
    if (value) secrets.push(value);
  }
  return secrets.filter((s) => s.trim().length >= 4);
}
