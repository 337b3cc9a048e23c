import { Injectable } from '@nestjs/common';
import { type CheckContext } from '../check/check-kind';
import { SourceRegistries } from '../registry/source-registries';
import { collectTrustEvidence, type TrustEvidence } from './trust-evidence';

/** Fetches a promotion's trust evidence once per check stage, for every check kind that needs it. */
@Injectable()
export class TrustEvidenceSource {
  constructor(private readonly registries: SourceRegistries) {}

  forPromotion(ctx: CheckContext): Promise<TrustEvidence> {
    const key = `trust-evidence:${ctx.promotion.digest}`;
    let pending = ctx.shared.get(key) as Promise<TrustEvidence> | undefined;
    if (!pending) {
      const p = ctx.promotion;
      pending = this.registries.with(ctx.sources, p.sourceRegistry, (c) =>
        collectTrustEvidence(c, p.sourceRepository, p.digest),
      );
      ctx.shared.set(key, pending);
    }
    return pending;
  }
}
