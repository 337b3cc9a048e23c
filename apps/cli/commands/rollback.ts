import { type Page, type PromotionDetailView, type TagHistoryEntryView } from '../api-types';
import { parseDuration, stringOption, UsageError } from '../args';
import { type CommandSpec } from '../command';
import { ExitCode, exitCodeForStatus } from '../exit-codes';
import { formatPromotion } from '../format';
import { table } from '../output';
import { followPromotion } from './promote';

const DEFAULT_TIMEOUT = '30m';
const envPath = (name: string): string => `/v1/environments/${encodeURIComponent(name)}`;

export const rollback: CommandSpec = {
  name: 'rollback',
  summary: "move an environment's tag back to a digest Airlock promoted there before",
  usage: '<environment> --repository <target repository> --tag <tag> [--to previous|sha256:…] [options]',
  positionals: ['environment'],
  options: {
    repository: { type: 'string' },
    tag: { type: 'string' },
    to: { type: 'string' },
    reason: { type: 'string' },
    wait: { type: 'boolean' },
    detach: { type: 'boolean' },
    timeout: { type: 'string' },
  },
  optionHelp: [
    ['--repository <repo>', 'the target repository, as in the environment (required)'],
    ['--tag <tag>', 'the tag to move back (required)'],
    ['--to <digest>|previous', 'the digest to go back to (default: previous, the one before the current)'],
    ['--reason <text>', 'why: kept in the record, the audit trail and the attestation'],
    ['--wait', 'wait for the outcome, not only for the checks'],
    ['--detach', 'return as soon as the rollback is accepted'],
    ['--timeout <duration>', `how long to wait (default ${DEFAULT_TIMEOUT})`],
  ],
  details: [
    'A rollback is a promotion of kind rollback: it goes back only to a digest Airlock promoted to',
    "that tag before (see 'airlock history'), runs the signature checks again and needs the approvals",
    "of the policy's rollback section. Exit codes as for promote.",
  ],
  async run(ctx, { values, positionals }) {
    const repository = stringOption(values, 'repository');
    const tag = stringOption(values, 'tag');
    if (!repository || !tag) throw new UsageError('--repository and --tag are required');
    const wait = values.wait === true;
    const detach = values.detach === true;
    if (wait && detach) throw new UsageError('give --wait or --detach, not both');
    const timeoutMs = parseDuration(stringOption(values, 'timeout') ?? DEFAULT_TIMEOUT);
    const reason = stringOption(values, 'reason');
    const created = await ctx.api().post<PromotionDetailView>(`${envPath(positionals[0])}/rollback`, {
      repository,
      tag,
      to: stringOption(values, 'to') ?? 'previous',
      ...(reason ? { reason } : {}),
    });
    const first = created.body;
    if (!ctx.json) ctx.out.note(`requested: rollback ${first.id} to ${first.digest}`);
    const followed = await followPromotion(ctx, first, { detach, wait, timeoutMs, noun: 'rollback' });
    if (followed === ExitCode.Error) return ExitCode.Error;
    const { promotion: final, timedOut } = followed;
    if (ctx.json) ctx.out.json(final);
    else ctx.out.lines(formatPromotion(final));
    if (timedOut) return ExitCode.Timeout;
    return exitCodeForStatus(final.status);
  },
};

export const history: CommandSpec = {
  name: 'history',
  summary: "what Airlock wrote to an environment's tags, newest first (promotions and rollbacks)",
  usage: '<environment> [--repository <repo>] [--tag <tag>] [--limit n]',
  positionals: ['environment'],
  options: { repository: { type: 'string' }, tag: { type: 'string' }, limit: { type: 'string' } },
  optionHelp: [
    ['--repository <repo>', 'only this target repository'],
    ['--tag <tag>', 'only this tag'],
    ['--limit <n>', 'at most this many entries (default 50, at most 200)'],
  ],
  async run(ctx, { values, positionals }) {
    const query: Record<string, string> = {};
    for (const k of ['repository', 'tag', 'limit']) {
      const v = stringOption(values, k);
      if (v !== undefined) query[k] = v;
    }
    const page = await ctx
      .api()
      .get<Omit<Page<TagHistoryEntryView>, 'nextCursor'>>(`${envPath(positionals[0])}/history`, query);
    if (ctx.json) ctx.out.json(page);
    else if (page.items.length === 0) ctx.out.line('no tag written by Airlock');
    else {
      ctx.out.lines(
        table(
          ['TAG', 'DIGEST', 'KIND', 'PROMOTION', 'AT', ''],
          page.items.map((h) => [
            `${h.repository}:${h.tag}`,
            h.digest,
            h.kind,
            h.promotionId,
            h.promotedAt,
            h.current ? 'current' : '',
          ]),
        ),
      );
    }
    return ExitCode.Ok;
  },
};
