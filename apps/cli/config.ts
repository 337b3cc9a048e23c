import { readFile } from 'node:fs/promises';
import { type ParsedValues, stringOption, UsageError } from './args';
import { ciTokenSource } from './ci-token';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

export type Env = Readonly<Record<string, string | undefined>>;

/** Where the bearer token comes from; a file is re-read for every request (so it can be refreshed). */
export type TokenSource = () => Promise<string>;

/** The server's base URL from --server or AIRLOCK_SERVER: http(s), no query, no trailing slash. */
export function resolveServer(values: ParsedValues, env: Env): string {
  const text = stringOption(values, 'server') ?? env.AIRLOCK_SERVER ?? DEFAULT_SERVER;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--server: "${text}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError('--server: must be an http:// or https:// URL');
  }
  if (url.search || url.hash) throw new UsageError('--server: must not have a query or fragment');
  if (url.username || url.password) throw new UsageError('--server: must not carry credentials');
  return url.toString().replace(/\/+$/, '');
}

const BEARER = /^[\x21-\x7e]+$/;

function checked(token: string, from: string): string {
  // Never echo the token, not even a part of it, in a message.
  if (!BEARER.test(token)) {
    throw new UsageError(`the token from ${from} is not a bearer token (one line of printable characters)`);
  }
  return token;
}

/** A bearer token read from a file; `from` names it in errors (`--token-file <path>`). */
export async function readTokenFile(path: string, from: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${from}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return checked(text.trim(), from);
}

/**
 * The token, by precedence: --token, --token-file, the CI's own OIDC token (GitHub Actions, GitLab
 * `id_tokens`: ci-token.ts), AIRLOCK_TOKEN, AIRLOCK_TOKEN_FILE. Undefined when none is given
 * (commands that need no server, like offline verification, do not ask).
 */
export function resolveToken(
  values: ParsedValues,
  env: Env,
  fetchFn?: typeof fetch,
  now?: () => number,
): TokenSource | undefined {
  const flag = stringOption(values, 'token');
  const file = stringOption(values, 'token-file');
  if (flag !== undefined && file !== undefined)
    throw new UsageError('give --token or --token-file, not both');
  if (flag !== undefined) {
    const token = checked(flag.trim(), '--token');
    return () => Promise.resolve(token);
  }
  if (file !== undefined) return () => readTokenFile(file, `--token-file ${file}`);
  const ci = ciTokenSource(env, fetchFn, now);
  if (ci) return () => ci.token();
  const path = env.AIRLOCK_TOKEN ? undefined : env.AIRLOCK_TOKEN_FILE;
  if (path !== undefined) {
    return () => readTokenFile(path, `AIRLOCK_TOKEN_FILE ${path}`);
  }
  if (env.AIRLOCK_TOKEN !== undefined) {
    const token = checked(env.AIRLOCK_TOKEN.trim(), 'AIRLOCK_TOKEN');
    return () => Promise.resolve(token);
  }
  return undefined;
}
