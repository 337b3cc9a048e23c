import { type WhoAmIView } from '../api-types';
import { type CommandSpec } from '../command';
import { ExitCode } from '../exit-codes';
import { formatWhoAmI } from '../format';

export const whoami: CommandSpec = {
  name: 'whoami',
  summary: 'show who the token says you are and the roles you hold',
  usage: '',
  positionals: [],
  options: {},
  optionHelp: [],
  async run(ctx) {
    const w = await ctx.api().get<WhoAmIView>('/v1/whoami');
    if (ctx.json) ctx.out.json(w);
    else ctx.out.lines(formatWhoAmI(w));
    return ExitCode.Ok;
  },
};
