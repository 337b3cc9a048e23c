import { randomUUID } from 'node:crypto';
import { RegistryClient } from '../../libs/oci/registry-client';
import { type RegistryConfig } from '../../libs/oci/registry-config';
import { ApiClient } from './api-client';
import {
  GLOBAL_OPTIONS_HELP,
  parseCommandArgs,
  secretsIn,
  splitCommand,
  UsageError,
  type ParsedValues,
} from './args';
import { type CommandContext, type CommandSpec } from './command';
import { COMMANDS, GROUPS } from './commands';
import { type Env, resolveServer, resolveToken } from './config';
import { ExitCode } from './exit-codes';
import { type AttestationRegistry } from './image-attestation';
import { Output, type Writer } from './output';

export interface CliDeps {
  argv: readonly string[];
  env: Env;
  stdout: Writer;
  stderr: Writer;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  randomId?: () => string;
  /** Registry clients for verify-attestation (a fake in tests). */
  registry?: (config: RegistryConfig) => AttestationRegistry;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function optionLines(pairs: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
}

export function commandHelp(c: CommandSpec): string[] {
  const lines = [`usage: airlock ${c.name}${c.usage ? ` ${c.usage}` : ''}`, '', c.summary, ''];
  if (c.optionHelp.length) lines.push('options:', ...optionLines(c.optionHelp), '');
  if (c.details?.length) lines.push(...c.details, '');
  lines.push('global options:', ...optionLines(GLOBAL_OPTIONS_HELP));
  return lines;
}

export function mainHelp(group?: string): string[] {
  const commands = COMMANDS.filter((c) => !group || c.name.startsWith(`${group} `));
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `usage: airlock ${group ?? '<command>'}${group ? ' <command>' : ''} [options]`,
    '',
    ...(group ? [] : ['Airlock CLI: request, approve and follow promotions; verify the audit trail.', '']),
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'global options:',
    ...optionLines(GLOBAL_OPTIONS_HELP),
    '',
    `Run 'airlock <command> --help' for a command's options.`,
    ...(group
      ? []
      : [
          '',
          'exit codes: 0 ok, 1 error, 2 rejected, 3 expired or cancelled, 4 failed, 5 timed out,',
          '6 audit chain broken, 7 attestation missing or invalid.',
        ]),
  ];
}

function printHelp(out: Output, lines: readonly string[], asked: boolean): void {
  for (const l of lines) {
    if (asked) out.line(l);
    else out.note(l);
  }
}

function context(out: Output, values: ParsedValues, deps: CliDeps): CommandContext {
  let client: ApiClient | undefined;
  return {
    out,
    json: values.json === true,
    env: deps.env,
    api: () => {
      if (client) return client;
      const server = resolveServer(values, deps.env);
      const source = resolveToken(values, deps.env, deps.fetch, deps.now);
      if (!source) {
        throw new UsageError(
          'no token: pass --token-file, set AIRLOCK_TOKEN, or run in a CI job that provides an OIDC token (GitHub Actions with id-token: write, GitLab id_tokens)',
        );
      }
      const token = async (): Promise<string> => {
        const t = await source();
        out.addSecret(t);
        return t;
      };
      client = new ApiClient({ server, token, fetch: deps.fetch, sleep: deps.sleep });
      return client;
    },
    publicApi: () =>
      new ApiClient({
        server: resolveServer(values, deps.env),
        token: undefined,
        fetch: deps.fetch,
        sleep: deps.sleep,
      }),
    registry: deps.registry ?? ((config) => new RegistryClient(config)),
    sleep: deps.sleep ?? sleep,
    now: deps.now ?? Date.now,
    randomId: deps.randomId ?? randomUUID,
  };
}

/** Runs one CLI invocation and returns its exit code (main.ts sets it on the process). */
export async function run(deps: CliDeps): Promise<ExitCode> {
  const out = new Output(deps.stdout, deps.stderr, secretsIn(deps.argv, deps.env));
  const { words, rest } = splitCommand(deps.argv, (w) => w.length === 1 && GROUPS.has(w[0]));
  const wantsHelp = rest.includes('--help') || rest.includes('-h');

  if (words.length === 0 || (words[0] === 'help' && words.length === 1 && rest.length === 0)) {
    const asked = words.length > 0 || wantsHelp;
    // Help that was asked for is the result (stdout); help instead of a command is an error (stderr).
    printHelp(out, mainHelp(), asked);
    return asked ? ExitCode.Ok : ExitCode.Error;
  }
  // `airlock help promotions list` is `airlock promotions list --help`.
  if (words[0] === 'help') return run({ ...deps, argv: [...rest, '--help'] });

  const name = words.join(' ');
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    if (GROUPS.has(words[0]) && words.length === 1) {
      printHelp(out, mainHelp(words[0]), wantsHelp);
      return wantsHelp ? ExitCode.Ok : ExitCode.Error;
    }
    out.note(`error: unknown command '${name}'`);
    out.note(`Run 'airlock --help' for the commands.`);
    return ExitCode.Error;
  }

  let json = false;
  try {
    const { values, positionals } = parseCommandArgs(rest, command.options);
    json = values.json === true;
    if (values.help) {
      out.lines(commandHelp(command));
      return ExitCode.Ok;
    }
    if (positionals.length !== command.positionals.length) {
      const expected = command.positionals.map((p) => `<${p}>`).join(' ') || 'no arguments';
      throw new UsageError(
        `expected ${expected}, got ${positionals.length ? positionals.join(' ') : 'none'}`,
      );
    }
    return await command.run(context(out, values, deps), { values, positionals });
  } catch (e) {
    out.error(e, json);
    if (e instanceof UsageError) out.note(`Run 'airlock ${command.name} --help' for usage.`);
    return ExitCode.Error;
  }
}
