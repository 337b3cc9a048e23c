import { readFile } from 'node:fs/promises';
import { type ChangeView, type EnvironmentView, type Page, type PolicyVersionView } from '../api-types';
import { parsePositiveInt, requiredOption, stringOption, UsageError } from '../args';
import { type CommandContext, type CommandSpec } from '../command';
import { ExitCode } from '../exit-codes';
import {
  formatChange,
  formatEnvironment,
  formatEnvironmentTable,
  formatPolicyTable,
  formatPolicyVersion,
} from '../format';

const envPath = (name: string): string => `/v1/environments/${encodeURIComponent(name)}`;

/** Every page of a cursor-paginated list (environments and policy versions are short lists). */
async function listAll<T>(ctx: CommandContext, path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await ctx.api().get<Page<T>>(path, { cursor, limit: 200 });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return items;
}

export const environmentsList: CommandSpec = {
  name: 'environments list',
  summary: 'list environments',
  usage: '',
  positionals: [],
  options: {},
  optionHelp: [],
  async run(ctx) {
    const items = await listAll<EnvironmentView>(ctx, '/v1/environments');
    if (ctx.json) ctx.out.json({ items, nextCursor: null });
    else ctx.out.lines(formatEnvironmentTable(items));
    return ExitCode.Ok;
  },
};

export const environmentsGet: CommandSpec = {
  name: 'environments get',
  summary: 'show an environment: sources, target, active policy',
  usage: '<name>',
  positionals: ['name'],
  options: {},
  optionHelp: [],
  async run(ctx, { positionals }) {
    const e = await ctx.api().get<EnvironmentView>(envPath(positionals[0]));
    if (ctx.json) ctx.out.json(e);
    else ctx.out.lines(formatEnvironment(e));
    return ExitCode.Ok;
  },
};

/** A JSON object read from --file, or a usage error saying what is wrong with it. */
async function jsonObjectFile(file: string, what: string): Promise<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    const why = e instanceof SyntaxError ? `not JSON (${e.message})` : (e as NodeJS.ErrnoException).code;
    throw new UsageError(`--file ${file}: ${why ?? String(e)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--file ${file}: the ${what} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

export const environmentsCreate: CommandSpec = {
  name: 'environments create',
  summary: 'propose an environment (applied once a second admin approves the change)',
  usage: '--file environment.json',
  positionals: [],
  options: { file: { type: 'string' } },
  optionHelp: [['--file <environment.json>', 'name, sources, target (as POST /v1/environments takes)']],
  async run(ctx, { values }) {
    const body = await jsonObjectFile(requiredOption(values, 'file'), 'environment');
    const res = await ctx.api().post<ChangeView>('/v1/environments', body);
    if (ctx.json) ctx.out.json(res.body);
    else {
      ctx.out.lines(formatChange(res.body));
      ctx.out.note(`another admin applies it with: airlock changes approve ${res.body.id}`);
    }
    return ExitCode.Ok;
  },
};

export const policiesAdd: CommandSpec = {
  name: 'policies add',
  summary: 'add a policy version to an environment (inactive until a second admin activates it)',
  usage: '<env> --file policy.json [--comment c]',
  positionals: ['env'],
  options: { file: { type: 'string' }, comment: { type: 'string' } },
  optionHelp: [
    ['--file <policy.json>', 'the policy document (required)'],
    ['--comment <text>', 'why this version exists'],
  ],
  async run(ctx, { values, positionals }) {
    const document = await jsonObjectFile(requiredOption(values, 'file'), 'policy');
    const comment = stringOption(values, 'comment');
    const res = await ctx.api().post<PolicyVersionView>(`${envPath(positionals[0])}/policies`, {
      document,
      ...(comment === undefined ? {} : { comment }),
    });
    const v = res.body;
    if (ctx.json) ctx.out.json(v);
    else {
      ctx.out.lines(formatPolicyVersion(v));
      ctx.out.note(
        `another admin activates it with: airlock policies activate ${v.environment} ${v.version}`,
      );
    }
    return ExitCode.Ok;
  },
};

export const policiesActivate: CommandSpec = {
  name: 'policies activate',
  summary: 'activate a policy version (four eyes: not by the admin who added it)',
  usage: '<env> <version>',
  positionals: ['env', 'version'],
  options: {},
  optionHelp: [],
  async run(ctx, { positionals }) {
    const version = parsePositiveInt(positionals[1], 'version');
    const res = await ctx
      .api()
      .post<PolicyVersionView>(`${envPath(positionals[0])}/policies/${version}/activate`);
    if (ctx.json) ctx.out.json(res.body);
    else ctx.out.lines(formatPolicyVersion(res.body));
    return ExitCode.Ok;
  },
};

export const policiesList: CommandSpec = {
  name: 'policies list',
  summary: "list an environment's policy versions",
  usage: '<env>',
  positionals: ['env'],
  options: {},
  optionHelp: [],
  async run(ctx, { positionals }) {
    const items = await listAll<PolicyVersionView>(ctx, `${envPath(positionals[0])}/policies`);
    if (ctx.json) ctx.out.json({ items, nextCursor: null });
    else ctx.out.lines(formatPolicyTable(items));
    return ExitCode.Ok;
  },
};

export const policiesGet: CommandSpec = {
  name: 'policies get',
  summary: 'show a policy version with its document',
  usage: '<env> <version>',
  positionals: ['env', 'version'],
  options: {},
  optionHelp: [],
  async run(ctx, { positionals }) {
    const version = parsePositiveInt(positionals[1], 'version');
    const v = await ctx.api().get<PolicyVersionView>(`${envPath(positionals[0])}/policies/${version}`);
    if (ctx.json) ctx.out.json(v);
    else ctx.out.lines([...formatPolicyVersion(v), '  document:', JSON.stringify(v.document, null, 2)]);
    return ExitCode.Ok;
  },
};
