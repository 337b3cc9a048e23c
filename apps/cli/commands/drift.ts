import { parseDuration, stringOption } from '../args';
import { type CommandContext, type CommandSpec } from '../command';
import { ExitCode } from '../exit-codes';
import { type DriftCheckView as DriftCheck, type DriftView, type VerificationView } from '../api-types';

// Views of the drift and verification routes (libs/core/drift/drift.dto.ts,
// libs/core/verification/verification.dto.ts), as far as the CLI reads them.

const envPath = (name: string): string => `/v1/environments/${encodeURIComponent(name)}`;
const FINISHED = new Set(['completed', 'truncated', 'failed']);

function checkLines(c: DriftCheck): string[] {
  return [
    `drift check ${c.id} of ${c.environment}: ${c.status}`,
    c.summary,
    ...(c.reason ? [`reason: ${c.reason}`] : []),
    ...(c.findings ?? []).map((f) => `  ${f.kind.padEnd(14)} ${f.message}`),
  ];
}

/** 0: no drift; 2: drift found; 4: the check failed; 5: timeout. */
const outcome = (c: DriftCheck): ExitCode =>
  c.status === 'failed' ? ExitCode.Failed : (c.findings ?? []).length > 0 ? ExitCode.Rejected : ExitCode.Ok;

export const driftCheck: CommandSpec = {
  name: 'drift check',
  summary: "compare an environment's target registry with what Airlock promoted (waits for the result)",
  usage: '<environment> [--timeout 5m]',
  positionals: ['environment'],
  options: { timeout: { type: 'string' } },
  optionHelp: [['--timeout <duration>', 'how long to wait for the check, e.g. 90s, 10m (default 5m)']],
  details: ['Exit codes: 0 no drift, 2 drift found, 4 the check failed, 5 timeout, 1 any error.'],
  async run(ctx: CommandContext, { positionals, values }) {
    const env = positionals[0];
    const timeoutMs = parseDuration(stringOption(values, 'timeout') ?? '5m');
    const queued = (await ctx.api().post<DriftCheck>(`${envPath(env)}/drift-checks`)).body;
    const until = ctx.now() + timeoutMs;
    let check = queued;
    while (!FINISHED.has(check.status)) {
      if (ctx.now() > until) {
        ctx.out.note(`drift check ${check.id} is still ${check.status}`);
        return ExitCode.Timeout;
      }
      await ctx.sleep(1000);
      check = await ctx.api().get<DriftCheck>(`${envPath(env)}/drift-checks/${check.id}`);
    }
    if (ctx.json) ctx.out.json(check);
    else ctx.out.lines(checkLines(check));
    return outcome(check);
  },
};

export const driftShow: CommandSpec = {
  name: 'drift show',
  summary: 'show the latest drift check of an environment and its findings',
  usage: '<environment>',
  positionals: ['environment'],
  options: {},
  optionHelp: [],
  async run(ctx, { positionals }) {
    const view = await ctx.api().get<DriftView>(`${envPath(positionals[0])}/drift`);
    if (ctx.json) ctx.out.json(view);
    else if (view.latest) ctx.out.lines(checkLines(view.latest));
    else ctx.out.lines([`no drift check of ${view.environment} has finished yet`]);
    return view.latest ? outcome(view.latest) : ExitCode.Ok;
  },
};

export const verificationShow: CommandSpec = {
  name: 'verification show',
  summary: "what an environment's promoted digests carry now (advisories and licenses judged again)",
  usage: '<environment>',
  positionals: ['environment'],
  options: {},
  optionHelp: [],
  details: ['Exit codes: 0 nothing open, 2 open findings the active policy would block, 1 any error.'],
  async run(ctx, { positionals }) {
    const v = await ctx.api().get<VerificationView>(`${envPath(positionals[0])}/verification`);
    if (ctx.json) ctx.out.json(v);
    else {
      ctx.out.lines([
        `${v.environment}: ${v.affectedDigests} promoted digest(s) affected, ${v.blockingDigests} the policy would block now`,
        ...v.findings.map(
          (f) =>
            `  ${f.blocking ? 'BLOCKING' : 'open    '} ${f.subject} ${f.severity ?? ''} ${f.package} in ${f.repository}${f.tag ? `:${f.tag}` : ''} (${f.digest.slice(0, 19)}…)${f.fixedIn ? `, fixed in ${f.fixedIn}` : ''}`,
        ),
        ...(v.runs[0]
          ? [`latest run (${v.runs[0].trigger}, ${v.runs[0].status}): ${v.runs[0].summary}`]
          : []),
      ]);
    }
    return v.blockingDigests > 0 ? ExitCode.Rejected : ExitCode.Ok;
  },
};
