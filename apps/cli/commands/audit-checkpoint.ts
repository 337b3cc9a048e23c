import { type AuditCheckpoint } from '../../../libs/domain/audit-checkpoint';
import { type CommandSpec } from '../command';
import { ExitCode } from '../exit-codes';
import { fields } from '../output';

/** `POST /v1/audit/checkpoints`: the worker signs one at an interval; an auditor may want one now. */
export const auditCheckpoint: CommandSpec = {
  name: 'audit checkpoint',
  summary: 'sign a checkpoint of the audit trail now (the worker also makes them at an interval)',
  usage: '',
  positionals: [],
  options: {},
  optionHelp: [],
  details: [
    'The new checkpoint pins the current head: an offline `airlock audit verify --file` with the',
    'checkpoints downloaded afterwards proves everything up to it was not changed since.',
  ],
  async run(ctx) {
    const res = await ctx.api().post<AuditCheckpoint>('/v1/audit/checkpoints');
    const c = res.body;
    if (ctx.json) ctx.out.json(c);
    else {
      ctx.out.lines([
        `checkpoint at seq ${c.seq}`,
        ...fields([
          ['head', c.hash],
          ['issued', c.issuedAt],
          ['key', c.keyId],
        ]),
      ]);
    }
    return ExitCode.Ok;
  },
};
