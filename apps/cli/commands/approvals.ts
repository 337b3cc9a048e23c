import { PromotionStatus } from '../../../libs/domain/promotion-status';
import { ApiError } from '../api-client';
import { type PromotionDetailView } from '../api-types';
import { requiredOption, stringOption } from '../args';
import { type CommandSpec } from '../command';
import { ExitCode } from '../exit-codes';
import { formatPromotion } from '../format';
import { fetchPromotion } from './promote';
import { type DecisionView } from '../api-types';

/**
 * A 404 for the approvals route itself, not for the promotion: the server's router answers unknown
 * routes with `no route …` and no details, whereas a missing promotion names it in `details`.
 */
export function isMissingRoute(e: unknown): boolean {
  if (!(e instanceof ApiError) || e.status !== 404) return false;
  const p = e.problem;
  return !p || p.detail.startsWith('no route') || p.details?.promotion === undefined;
}

/** What POST /v1/promotions/:id/approvals answers (libs/core/approval/approval.dto.ts DecisionView). */

function decide(decision: 'approve' | 'reject'): CommandSpec {
  const commentRequired = decision === 'reject';
  return {
    name: decision,
    summary: decision === 'approve' ? 'approve a promotion' : 'reject a promotion (one reject rejects)',
    usage: commentRequired ? '<id> --comment <text>' : '<id> [--comment <text>]',
    positionals: ['id'],
    options: { comment: { type: 'string' } },
    optionHelp: [
      ['--comment <text>', `why${commentRequired ? ' (required)' : ''}; recorded with the decision`],
    ],
    details: [
      'The decision is bound to the digest of the artifact under review: the CLI reads the',
      'promotion first and sends its digest, so a decision never applies to another artifact.',
    ],
    async run(ctx, { values, positionals }) {
      const comment = commentRequired ? requiredOption(values, 'comment') : stringOption(values, 'comment');
      const before = await fetchPromotion(ctx, positionals[0]);
      if (!ctx.json) ctx.out.note(`${decision === 'approve' ? 'approving' : 'rejecting'} ${before.artifact}`);
      let decided: DecisionView;
      try {
        const res = await ctx
          .api()
          .post<DecisionView>(`/v1/promotions/${encodeURIComponent(before.id)}/approvals`, {
            decision,
            ...(comment === undefined ? {} : { comment }),
            digest: before.digest,
          });
        decided = res.body;
      } catch (e) {
        if (isMissingRoute(e)) {
          ctx.out.note(`error: the server at ${ctx.api().server} does not support approvals yet`);
          return ExitCode.Error;
        }
        throw e;
      }
      const after: PromotionDetailView = await fetchPromotion(ctx, before.id);
      if (ctx.json) {
        ctx.out.json({ decision: decided, promotion: after });
        return ExitCode.Ok;
      }
      ctx.out.lines(formatPromotion(after));
      const missing = Object.entries(decided.tally?.missing ?? {}).filter(([, n]) => n > 0);
      if (after.status === PromotionStatus.AwaitingApproval && missing.length) {
        ctx.out.note(`still needed: ${missing.map(([group, n]) => `${n} from ${group}`).join(', ')}`);
      }
      return ExitCode.Ok;
    },
  };
}

export const approve = decide('approve');
export const reject = decide('reject');
