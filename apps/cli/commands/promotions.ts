import { type Page, type PromotionDetailView, type PromotionView } from '../api-types';
import { parseDuration, parsePositiveInt, stringOption } from '../args';
import { type CommandSpec } from '../command';
import { ExitCode, exitCodeForStatus, WAIT_SETTLED } from '../exit-codes';
import { formatHistory, formatPromotion, formatPromotionTable } from '../format';
import { waitForPromotion } from '../wait';
import { fetchPromotion } from './promote';

export const promotionsGet: CommandSpec = {
  name: 'promotions get',
  summary: 'show a promotion: status, checks, approvals and history',
  usage: '<id> [--wait [--timeout 30m]]',
  positionals: ['id'],
  options: { wait: { type: 'boolean' }, timeout: { type: 'string' } },
  optionHelp: [
    ['--wait', 'first wait for the outcome (promoted, rejected, expired, cancelled or failed)'],
    ['--timeout <duration>', 'how long --wait waits, e.g. 90s, 30m (default 30m)'],
  ],
  async run(ctx, { values, positionals }) {
    let p = await fetchPromotion(ctx, positionals[0]);
    let timedOut = false;
    if (values.wait === true) {
      ({ promotion: p, timedOut } = await waitForPromotion(p, {
        fetch: () => fetchPromotion(ctx, positionals[0]),
        settled: (s) => WAIT_SETTLED.has(s),
        timeoutMs: parseDuration(stringOption(values, 'timeout') ?? '30m'),
        sleep: (ms) => ctx.sleep(ms),
        now: () => ctx.now(),
        onStatus: (s) => {
          if (!ctx.json) ctx.out.note(`status: ${s}`);
        },
      }));
    }
    if (ctx.json) ctx.out.json(p);
    else ctx.out.lines([...formatPromotion(p), ...formatHistory(p)]);
    if (timedOut) return ExitCode.Timeout;
    return values.wait === true ? exitCodeForStatus(p.status) : ExitCode.Ok;
  },
};

export const promotionsList: CommandSpec = {
  name: 'promotions list',
  summary: 'list promotions, newest first',
  usage: '[--status s] [--env e] [--requester r] [--digest d] [--limit n] [--all]',
  positionals: [],
  options: {
    status: { type: 'string' },
    env: { type: 'string' },
    requester: { type: 'string' },
    digest: { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
    all: { type: 'boolean' },
  },
  optionHelp: [
    ['--status <status>', 'received, checking, awaiting_approval, approved, promoted, rejected, …'],
    ['--env <name>', 'only this environment'],
    ['--requester <identity>', 'only this requester (subject@issuer, as shown by whoami)'],
    ['--digest <sha256:…>', 'only this artifact digest'],
    ['--limit <n>', 'page size, 1–200 (default 50)'],
    ['--cursor <cursor>', 'start after this cursor (printed when there are more)'],
    ['--all', 'follow the cursor through every page'],
  ],
  async run(ctx, { values }) {
    const limitText = stringOption(values, 'limit');
    const query = {
      status: stringOption(values, 'status'),
      environment: stringOption(values, 'env'),
      requester: stringOption(values, 'requester'),
      digest: stringOption(values, 'digest'),
      limit: limitText === undefined ? undefined : parsePositiveInt(limitText, 'limit', 200),
    };
    const items: PromotionView[] = [];
    let cursor = stringOption(values, 'cursor');
    for (;;) {
      const page = await ctx.api().get<Page<PromotionView>>('/v1/promotions', { ...query, cursor });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
      if (!values.all || cursor === undefined) break;
    }
    if (ctx.json) ctx.out.json({ items, nextCursor: cursor ?? null });
    else {
      ctx.out.lines(formatPromotionTable(items));
      if (cursor !== undefined) ctx.out.note(`more: --cursor ${cursor} (or --all)`);
    }
    return ExitCode.Ok;
  },
};

export const cancel: CommandSpec = {
  name: 'cancel',
  summary: 'cancel a promotion that has not been promoted yet',
  usage: '<id> [--reason r]',
  positionals: ['id'],
  options: { reason: { type: 'string' } },
  optionHelp: [['--reason <text>', 'why (recorded in the audit trail)']],
  async run(ctx, { values, positionals }) {
    const reason = stringOption(values, 'reason');
    const res = await ctx
      .api()
      .post<PromotionDetailView>(
        `/v1/promotions/${encodeURIComponent(positionals[0])}/cancel`,
        reason === undefined ? {} : { reason },
      );
    if (ctx.json) ctx.out.json(res.body);
    else ctx.out.lines(formatPromotion(res.body));
    return ExitCode.Ok;
  },
};
