import { readFile } from 'node:fs/promises';
import {
  type ChangeView,
  type EnvironmentView,
  type Page,
  type PolicyDiffView,
  type PolicyEvaluationView,
  type PolicyVersionView,
  type WaiverView,
} from '../api-types';
import { parsePositiveInt, requiredOption, stringOption, UsageError } from '../args';
import { type CommandContext, type CommandSpec } from '../command';
import { ExitCode } from '../exit-codes';
import {
  formatChange,
  formatEnvironment,
  formatEnvironmentTable,
  formatEvaluation,
  formatPolicyChanges,
  formatPolicyTable,
  formatPolicyVersion,
  formatWaiverTable,
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
    // The second admin reads what activating it changes before it takes effect.
    const before = await ctx.api().get<PolicyVersionView>(`${envPath(positionals[0])}/policies/${version}`);
    if (!ctx.json && before.changesFromActive) {
      ctx.out.lines([`changes from the active version:`, ...formatPolicyChanges(before.changesFromActive)]);
    }
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
    else {
      ctx.out.lines([...formatPolicyVersion(v), '  document:', JSON.stringify(v.document, null, 2)]);
      if (v.changesFromActive) {
        ctx.out.lines(['  changes from the active version:', ...formatPolicyChanges(v.changesFromActive)]);
      }
    }
    return ExitCode.Ok;
  },
};

export const policiesDiff: CommandSpec = {
  name: 'policies diff',
  summary: 'what changed between two policy versions, per section',
  usage: '<env> <from-version> <to-version>',
  positionals: ['env', 'from', 'to'],
  options: {},
  optionHelp: [],
  async run(ctx, { positionals }) {
    const from = parsePositiveInt(positionals[1], 'from-version');
    const to = parsePositiveInt(positionals[2], 'to-version');
    const d = await ctx.api().get<PolicyDiffView>(`${envPath(positionals[0])}/policies/${from}/diff/${to}`);
    if (ctx.json) ctx.out.json(d);
    else ctx.out.lines([`policy ${d.environment} v${d.from} → v${d.to}`, ...formatPolicyChanges(d.sections)]);
    return ExitCode.Ok;
  },
};

export const policiesEvaluate: CommandSpec = {
  name: 'policies evaluate',
  summary: 'judge a (proposed) policy version on an artifact or on the last N promotions',
  usage: '<env> <version> (--last <n> | --artifact <ref> | --digest <sha256:…>)',
  positionals: ['env', 'version'],
  options: { last: { type: 'string' }, artifact: { type: 'string' }, digest: { type: 'string' } },
  optionHelp: [
    ['--last <n>', "the environment's last n promotions (1–100), judged under this version"],
    ['--artifact <ref>', 'one artifact (registry/repository@sha256:… or :tag)'],
    ['--digest <sha256:…>', 'a digest promoted into the environment before'],
  ],
  async run(ctx, { values, positionals }) {
    const version = parsePositiveInt(positionals[1], 'version');
    const last = stringOption(values, 'last');
    const artifact = stringOption(values, 'artifact');
    const digest = stringOption(values, 'digest');
    if ([last, artifact, digest].filter((x) => x !== undefined).length !== 1) {
      throw new UsageError('give one of --last, --artifact or --digest');
    }
    const body =
      last !== undefined
        ? { lastN: parsePositiveInt(last, '--last') }
        : artifact !== undefined
          ? { artifact }
          : { digest };
    const res = await ctx
      .api()
      .post<PolicyEvaluationView>(`${envPath(positionals[0])}/policies/${version}/evaluate`, body);
    const r = res.body;
    if (ctx.json) ctx.out.json(r);
    else {
      ctx.out.lines([
        r.summary,
        ...r.promotions
          .filter((p) => p.verdict !== 'awaiting_approval' && p.verdict !== 'approved')
          .map((p) => `  ${p.verdict}: ${p.artifact} (was ${p.status}) — ${p.reasons.join('; ')}`),
        ...(r.evaluation ? formatEvaluation(r.evaluation) : []),
      ]);
    }
    return ExitCode.Ok;
  },
};

const waiversPath = (env: string): string => `${envPath(env)}/waivers`;

export const waiversList: CommandSpec = {
  name: 'waivers list',
  summary: "list an environment's waivers (requested, active, expired, revoked)",
  usage: '<env>',
  positionals: ['env'],
  options: {},
  optionHelp: [],
  async run(ctx, { positionals }) {
    const items = await listAll<WaiverView>(ctx, waiversPath(positionals[0]));
    if (ctx.json) ctx.out.json({ items, nextCursor: null });
    else ctx.out.lines(formatWaiverTable(items));
    return ExitCode.Ok;
  },
};

export const waiversRequest: CommandSpec = {
  name: 'waivers request',
  summary: 'ask for an exception: one check or finding, for a digest or repository pattern, until an expiry',
  usage:
    '<env> --check <kind> [--finding <id>] (--digest <sha256:…> | --repository <pattern>) --reason <why> --expires <time>',
  positionals: ['env'],
  options: {
    check: { type: 'string' },
    finding: { type: 'string' },
    digest: { type: 'string' },
    repository: { type: 'string' },
    reason: { type: 'string' },
    expires: { type: 'string' },
  },
  optionHelp: [
    ['--check <kind>', 'the check it names: vulnerabilities, secrets, licenses, …'],
    ['--finding <id>', 'one finding: an advisory id or alias, a secret fingerprint, a license'],
    ['--digest <sha256:…>', 'the one image it applies to'],
    ['--repository <pattern>', 'or the source repositories it applies to (team/app, team/*)'],
    ['--reason <text>', 'why the exception is acceptable (required)'],
    ['--expires <time>', 'ISO 8601 time it ends, within the policy’s waivers.maxDays (required)'],
  ],
  async run(ctx, { values, positionals }) {
    const finding = stringOption(values, 'finding');
    const digest = stringOption(values, 'digest');
    const repositoryPattern = stringOption(values, 'repository');
    const res = await ctx.api().post<WaiverView>(waiversPath(positionals[0]), {
      check: requiredOption(values, 'check'),
      ...(finding === undefined ? {} : { finding }),
      ...(digest === undefined ? {} : { digest }),
      ...(repositoryPattern === undefined ? {} : { repositoryPattern }),
      reason: requiredOption(values, 'reason'),
      expiresAt: requiredOption(values, 'expires'),
    });
    if (ctx.json) ctx.out.json(res.body);
    else {
      ctx.out.lines(formatWaiverTable([res.body]));
      ctx.out.note(`another person grants it with: airlock waivers grant ${positionals[0]} ${res.body.id}`);
    }
    return ExitCode.Ok;
  },
};

export const waiversGrant: CommandSpec = {
  name: 'waivers grant',
  summary: 'grant a waiver another person requested (four eyes)',
  usage: '<env> <id>',
  positionals: ['env', 'id'],
  options: {},
  optionHelp: [],
  async run(ctx, { positionals }) {
    const res = await ctx
      .api()
      .post<WaiverView>(`${waiversPath(positionals[0])}/${encodeURIComponent(positionals[1])}/grant`);
    if (ctx.json) ctx.out.json(res.body);
    else ctx.out.lines(formatWaiverTable([res.body]));
    return ExitCode.Ok;
  },
};

export const waiversRevoke: CommandSpec = {
  name: 'waivers revoke',
  summary: 'withdraw a waiver request or end a granted waiver',
  usage: '<env> <id> --reason <why>',
  positionals: ['env', 'id'],
  options: { reason: { type: 'string' } },
  optionHelp: [['--reason <text>', 'why (required)']],
  async run(ctx, { values, positionals }) {
    const res = await ctx
      .api()
      .post<WaiverView>(`${waiversPath(positionals[0])}/${encodeURIComponent(positionals[1])}/revoke`, {
        reason: requiredOption(values, 'reason'),
      });
    if (ctx.json) ctx.out.json(res.body);
    else ctx.out.lines(formatWaiverTable([res.body]));
    return ExitCode.Ok;
  },
};
