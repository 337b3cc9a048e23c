import parseSpdx from 'spdx-expression-parse';
import satisfies from 'spdx-satisfies';
import { type LicensesScanSection } from '../domain';

export type LicenseVerdict =
  | { outcome: 'allowed' }
  /** Every way to satisfy the expression needs one of these denied licenses. */
  | { outcome: 'denied'; licenses: string[] }
  /** The allow list cannot satisfy the expression. */
  | { outcome: 'not-allowed' }
  /** No license, NOASSERTION, or not an SPDX expression: the policy's `unknown` choice applies. */
  | { outcome: 'unknown'; why: string };

type Node = ReturnType<typeof parseSpdx>;

/**
 * The denied licenses a package cannot avoid: under OR it may pick the other side, so a choice is
 * denied only when both sides are; under AND both apply, so either side's denial stands.
 */
function unavoidable(node: Node, deny: ReadonlySet<string>): string[] | null {
  if ('license' in node) return deny.has(node.license) ? [node.license] : null;
  const left = unavoidable(node.left, deny);
  const right = unavoidable(node.right, deny);
  if (node.conjunction === 'or') return left && right ? [...left, ...right] : null;
  return left || right ? [...(left ?? []), ...(right ?? [])] : null;
}

/** One package's license expression against the policy's allow and deny lists. */
export function evaluateLicense(expression: string | null, policy: LicensesScanSection): LicenseVerdict {
  if (!expression) return { outcome: 'unknown', why: 'no license given' };
  let tree: Node;
  try {
    tree = parseSpdx(expression);
  } catch {
    return { outcome: 'unknown', why: `${expression.slice(0, 200)} is not an SPDX expression` };
  }
  if (policy.deny?.length) {
    const denied = unavoidable(tree, new Set(policy.deny));
    if (denied) return { outcome: 'denied', licenses: [...new Set(denied)] };
  }
  if (policy.allow?.length) {
    try {
      if (!satisfies(expression, policy.allow)) return { outcome: 'not-allowed' };
    } catch {
      // spdx-satisfies knows only listed SPDX ids: a LicenseRef cannot be compared.
      return {
        outcome: 'unknown',
        why: `${expression.slice(0, 200)} cannot be compared with the allow list`,
      };
    }
  }
  return { outcome: 'allowed' };
}
