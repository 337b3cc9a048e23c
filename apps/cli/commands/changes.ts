import { type ChangeView, type Page } from '../api-types';
import { requiredOption, stringOption, UsageError } from '../args';
import { type CommandSpec } from '../command';
import { ExitCode } from '../exit-codes';
import { formatChange, formatChangeTable } from '../format';

const STATUSES = ['proposed', 'applied', 'rejected', 'withdrawn', 'failed'];
const changePath = (id: string): string => `/v1/changes/${encodeURIComponent(id)}`;

export const changesList: CommandSpec = {
  name: 'changes list',
  summary: 'list changes to who is trusted (default: those awaiting a second admin)',
  usage: '[--status proposed|applied|rejected|withdrawn|failed|all]',
  positionals: [],
  options: { status: { type: 'string' } },
  optionHelp: [['--status <status>', 'which changes (default proposed; all for every one)']],
  async run(ctx, { values }) {
    const status = stringOption(values, 'status') ?? 'proposed';
    if (status !== 'all' && !STATUSES.includes(status)) {
      throw new UsageError(`--status must be one of ${[...STATUSES, 'all'].join(', ')}`);
    }
    const items: ChangeView[] = [];
    let cursor: string | undefined;
    do {
      const page = await ctx.api().get<Page<ChangeView>>('/v1/changes', {
        ...(status === 'all' ? {} : { status }),
        cursor,
        limit: 200,
      });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    if (ctx.json) ctx.out.json({ items, nextCursor: null });
    else ctx.out.lines(formatChangeTable(items));
    return ExitCode.Ok;
  },
};

export const changesGet: CommandSpec = {
  name: 'changes get',
  summary: 'show a change with what it proposes',
  usage: '<id>',
  positionals: ['id'],
  options: {},
  optionHelp: [],
  async run(ctx, { positionals }) {
    const c = await ctx.api().get<ChangeView>(changePath(positionals[0]));
    if (ctx.json) ctx.out.json(c);
    else ctx.out.lines([...formatChange(c), '  payload:', JSON.stringify(c.payload, null, 2)]);
    return ExitCode.Ok;
  },
};

export const changesApprove: CommandSpec = {
  name: 'changes approve',
  summary: 'approve and apply a change (four eyes: not by the person who proposed it)',
  usage: '<id>',
  positionals: ['id'],
  options: {},
  optionHelp: [],
  details: ['Read it first with `airlock changes get <id>`: approving applies exactly that payload.'],
  async run(ctx, { positionals }) {
    const res = await ctx.api().post<ChangeView>(`${changePath(positionals[0])}/approve`);
    if (ctx.json) ctx.out.json(res.body);
    else ctx.out.lines(formatChange(res.body));
    return ExitCode.Ok;
  },
};

export const changesReject: CommandSpec = {
  name: 'changes reject',
  summary: 'reject a change (or withdraw your own)',
  usage: '<id> --comment <text>',
  positionals: ['id'],
  options: { comment: { type: 'string' } },
  optionHelp: [['--comment <text>', 'why (required); recorded with the decision']],
  async run(ctx, { values, positionals }) {
    const comment = requiredOption(values, 'comment');
    const res = await ctx.api().post<ChangeView>(`${changePath(positionals[0])}/reject`, { comment });
    if (ctx.json) ctx.out.json(res.body);
    else ctx.out.lines(formatChange(res.body));
    return ExitCode.Ok;
  },
};
