import { PromotionStatus } from '../../../libs/domain/promotion-status';
import { ApiError, ConnectionError } from '../api-client';
import { type PromotionDetailView, type PromotionEvaluationView } from '../api-types';
import { parseDuration, parseMetadata, UsageError, stringOption } from '../args';
import { type CommandContext, type CommandSpec } from '../command';
import { checksSettled, ExitCode, exitCodeForStatus, WAIT_SETTLED } from '../exit-codes';
import { formatEvaluation, formatPromotion } from '../format';
import { waitForPromotion } from '../wait';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const DEFAULT_TIMEOUT = '30m';

function nextStep(p: PromotionDetailView): string | undefined {
  switch (p.status) {
    case PromotionStatus.AwaitingApproval:
      return `waiting for approvers: airlock approve ${p.id} --comment "…"`;
    case PromotionStatus.Waiting:
      return `approved; waiting for the ${p.waitingFor ?? 'gate'} until ${p.waitingUntil ?? '?'}, then it moves on by itself: airlock promotions get ${p.id}`;
    case PromotionStatus.Received:
    case PromotionStatus.Checking:
    case PromotionStatus.Approved:
    case PromotionStatus.Promoting:
      return `follow it with: airlock promotions get ${p.id}`;
    case PromotionStatus.Promoted:
    case PromotionStatus.Rejected:
    case PromotionStatus.Expired:
    case PromotionStatus.Cancelled:
    case PromotionStatus.Failed:
      return undefined;
  }
}

export const promote: CommandSpec = {
  name: 'promote',
  summary: 'request a promotion of an artifact into an environment',
  usage: '<registry/repository@sha256:…> --env <name> [options]',
  positionals: ['artifact'],
  options: {
    env: { type: 'string' },
    metadata: { type: 'string', multiple: true },
    'idempotency-key': { type: 'string' },
    wait: { type: 'boolean' },
    detach: { type: 'boolean' },
    timeout: { type: 'string' },
    'dry-run': { type: 'boolean' },
  },
  optionHelp: [
    ['--env <name>', 'the environment to promote into (required)'],
    ['--metadata <key=value>', 'attach metadata (repeatable)'],
    ['--idempotency-key <key>', 'makes re-running the same request return the same promotion'],
    ['--wait', 'wait for the outcome (see below), not only for the checks'],
    ['--detach', 'return as soon as the request is accepted, without waiting for the checks'],
    ['--timeout <duration>', `how long to wait, e.g. 90s, 30m, 1h (default ${DEFAULT_TIMEOUT})`],
    ['--dry-run', 'say what would happen now (checks, approvals, break-glass) without requesting anything'],
  ],
  details: [
    'Without --wait, promote waits for the automatic checks only, then exits: 0 when the request is',
    'awaiting approval (or already approved), 2 when a check rejected it. With --wait it keeps',
    'polling until the outcome: 0 promoted (copied and attested), 2 rejected, 3 expired or',
    'cancelled, 4 failed, 5 timeout. Any error: 1.',
    '',
    'In a GitHub Actions job with "permissions: id-token: write", or a GitLab job whose id_tokens',
    'define AIRLOCK_ID_TOKEN (or the variable AIRLOCK_ID_TOKEN_VARIABLE names), the CLI uses the',
    "job's own OIDC token (audience $AIRLOCK_AUDIENCE, default airlock): no secret to store.",
    '',
    'With --dry-run nothing is requested: the exit code is 0 when the request would pass the checks,',
    '2 when a check would reject it, 4 when a check could not run now.',
    '',
    'Every request carries an Idempotency-Key (--idempotency-key, or one generated per run), so',
    'retries after a dropped connection never create a second promotion.',
  ],
  async run(ctx, { values, positionals }) {
    const environment = stringOption(values, 'env');
    if (!environment) throw new UsageError('--env is required');
    const wait = values.wait === true;
    const detach = values.detach === true;
    if (wait && detach) throw new UsageError('give --wait or --detach, not both');
    const timeoutMs = parseDuration(stringOption(values, 'timeout') ?? DEFAULT_TIMEOUT);
    const metadata = parseMetadata((values.metadata as string[] | undefined) ?? []);
    if (values['dry-run'] === true) {
      return dryRun(ctx, { artifact: positionals[0], environment, ...(metadata ? { metadata } : {}) });
    }
    const key = stringOption(values, 'idempotency-key') ?? `airlock-cli-${ctx.randomId()}`;
    if (!IDEMPOTENCY_KEY.test(key)) {
      throw new UsageError('--idempotency-key: must be 1–255 printable ASCII characters without spaces');
    }

    const api = ctx.api();
    const created = await api.post<PromotionDetailView>(
      '/v1/promotions',
      { artifact: positionals[0], environment, ...(metadata ? { metadata } : {}) },
      { headers: { 'idempotency-key': key }, retry: true },
    );
    const first = created.body;
    if (!ctx.json) {
      ctx.out.note(
        `${created.status === 201 ? 'requested' : 'already requested (same Idempotency-Key)'}: promotion ${first.id}`,
      );
    }

    const followed = await followPromotion(ctx, first, { detach, wait, timeoutMs, noun: 'promotion' });
    if (followed === ExitCode.Error) return ExitCode.Error;
    const { promotion: final, timedOut } = followed;

    if (ctx.json) ctx.out.json(final);
    else {
      ctx.out.lines(formatPromotion(final));
      const hint = nextStep(final);
      if (hint && !timedOut) ctx.out.note(hint);
    }
    if (timedOut) {
      ctx.out.note(
        `timed out after ${stringOption(values, 'timeout') ?? DEFAULT_TIMEOUT}: still ${final.status}`,
      );
      return ExitCode.Timeout;
    }
    return exitCodeForStatus(final.status);
  },
};

/** `promote --dry-run`: POST /v1/promotions/evaluate, which creates nothing. */
async function dryRun(ctx: CommandContext, body: Record<string, unknown>): Promise<ExitCode> {
  const res = await ctx.api().post<PromotionEvaluationView>('/v1/promotions/evaluate', body);
  const e = res.body;
  if (ctx.json) ctx.out.json(e);
  else ctx.out.lines(formatEvaluation(e));
  switch (e.decision) {
    case 'approved':
    case 'awaiting_approval':
      return ExitCode.Ok;
    case 'rejected':
      return ExitCode.Rejected;
    case 'undetermined':
      return ExitCode.Failed;
  }
}

export async function fetchPromotion(ctx: CommandContext, id: string): Promise<PromotionDetailView> {
  return ctx.api().get<PromotionDetailView>(`/v1/promotions/${encodeURIComponent(id)}`);
}

/**
 * Follows a promotion just requested (or a rollback) until its checks are over, or with `wait`
 * until its outcome, printing each status. A lost connection meanwhile is exit 1, naming the
 * request so that nobody re-requests blindly.
 */
export async function followPromotion(
  ctx: CommandContext,
  first: PromotionDetailView,
  o: { detach: boolean; wait: boolean; timeoutMs: number; noun: 'promotion' | 'rollback' },
): Promise<{ promotion: PromotionDetailView; timedOut: boolean } | ExitCode.Error> {
  if (o.detach) return { promotion: first, timedOut: false };
  try {
    return await waitForPromotion(first, {
      fetch: () => fetchPromotion(ctx, first.id),
      settled: o.wait ? (s) => WAIT_SETTLED.has(s) : checksSettled,
      timeoutMs: o.timeoutMs,
      sleep: (ms) => ctx.sleep(ms),
      now: () => ctx.now(),
      onStatus: (s) => {
        if (!ctx.json) ctx.out.note(`status: ${s}`);
      },
    });
  } catch (e) {
    if (e instanceof ApiError || e instanceof ConnectionError) {
      ctx.out.error(e, ctx.json);
      ctx.out.note(`${o.noun} ${first.id} was requested; check it with: airlock promotions get ${first.id}`);
      return ExitCode.Error;
    }
    throw e;
  }
}
