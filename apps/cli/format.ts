// Human-readable renderings of the API's views (the --json output is the views themselves).
import { type AuditVerification } from '../../libs/domain/audit-verification';
import {
  type ChangeView,
  type EnvironmentView,
  type PolicySectionDiffView,
  type PolicyVersionView,
  type PromotionDetailView,
  type PromotionEvaluationView,
  type PromotionView,
  type WaiverView,
  type WhoAmIView,
} from './api-types';
import { fields, table } from './output';

const short = (hash: string): string => (hash.length > 19 ? `${hash.slice(0, 19)}…` : hash);

export function formatPromotion(p: PromotionDetailView): string[] {
  const lines = [`${p.kind === 'rollback' ? 'rollback' : 'promotion'} ${p.id}: ${p.status}`];
  const meta = Object.entries(p.metadata ?? {}).map(([k, v]) => `${k}=${v}`);
  lines.push(
    ...fields([
      ['artifact', p.artifact],
      ['environment', p.environment],
      ['target', p.target],
      ['policy', `v${p.policyVersion} (sha256 ${short(p.policySha256)})`],
      ['requester', p.requester],
      ...(p.rollback
        ? ([
            ['rolls back', `promotion ${p.rollback.fromPromotionId ?? '-'}`],
            ['restores', `promotion ${p.rollback.toPromotionId}`],
          ] as const)
        : []),
      ...(meta.length ? [['metadata', meta.join(' ')] as const] : []),
      ...(p.waitingFor ? [['waiting for', `${p.waitingFor} until ${p.waitingUntil ?? '?'}`] as const] : []),
      ['created', p.createdAt],
    ]),
  );
  if (p.reasons?.length) {
    lines.push('  reasons:');
    for (const r of p.reasons) lines.push(`    - ${r}`);
  }
  if (p.checks) {
    lines.push(p.checks.length ? '  checks:' : '  checks: none');
    for (const c of p.checks) lines.push(`    ${c.status.padEnd(5)} ${c.kind}: ${c.summary}`);
  }
  if (p.attestation) {
    lines.push(
      '  attestation:',
      ...fields([
        ['reference', p.attestation.reference],
        ['digest', p.attestation.digest],
        ['key', p.attestation.keyId],
      ]).map((l) => `  ${l}`),
    );
  }
  if (p.approvals?.length) {
    lines.push('  approvals:');
    for (const a of p.approvals) {
      lines.push(`    ${a.decision.padEnd(7)} ${a.approver} at ${a.at}${a.comment ? `: ${a.comment}` : ''}`);
    }
  }
  return lines;
}

export function formatHistory(p: PromotionDetailView): string[] {
  if (!p.history?.length) return [];
  return [
    '  history:',
    ...p.history.map(
      (h) => `    ${h.at}  ${h.from ?? '-'} → ${h.to}  by ${h.actor}${h.reason ? `: ${h.reason}` : ''}`,
    ),
  ];
}

export function formatPromotionTable(items: readonly PromotionView[]): string[] {
  if (items.length === 0) return ['no promotions'];
  return table(
    ['ID', 'STATUS', 'ENVIRONMENT', 'CREATED', 'ARTIFACT'],
    items.map((p) => [p.id, p.status, p.environment, p.createdAt, p.artifact]),
  );
}

export function formatWhoAmI(w: WhoAmIView): string[] {
  const roles = w.roles.map((r) => `${r.role}${r.environment ? `@${r.environment}` : ' (all environments)'}`);
  const lines = fields([
    ['identity', w.identity],
    ['kind', w.kind],
    ['roles', roles.length ? roles.join(', ') : 'none'],
    ...(w.groups.length ? [['groups', w.groups.join(', ')] as const] : []),
  ]);
  const claims = Object.entries(w.claims ?? {});
  if (claims.length) {
    lines.push('  claims:');
    for (const [k, v] of claims) lines.push(`    ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return lines;
}

export function formatEnvironment(e: EnvironmentView): string[] {
  return [
    `environment ${e.name}`,
    ...fields([
      ['description', e.description || '-'],
      ['target', `${e.target.registry}/${e.target.repository}`],
      ['active policy', e.activePolicyVersion === null ? 'none' : `v${e.activePolicyVersion}`],
      ['created', e.createdAt],
    ]),
    '  sources:',
    ...e.sources.map((s) => `    ${s.registry}: ${s.repositories.join(', ')}`),
  ];
}

export function formatEnvironmentTable(items: readonly EnvironmentView[]): string[] {
  if (items.length === 0) return ['no environments'];
  return table(
    ['NAME', 'POLICY', 'TARGET'],
    items.map((e) => [
      e.name,
      e.activePolicyVersion === null ? '-' : `v${e.activePolicyVersion}`,
      `${e.target.registry}/${e.target.repository}`,
    ]),
  );
}

export function formatPolicyVersion(v: PolicyVersionView): string[] {
  return [
    `policy ${v.environment} v${v.version}${v.active ? ' (active)' : ''}`,
    ...fields([
      ['sha256', v.sha256],
      ['comment', v.comment || '-'],
      ['created', `${v.createdAt} by ${v.createdBy}`],
      ['activated', v.activatedAt ? `${v.activatedAt} by ${v.activatedBy ?? '?'}` : 'no'],
    ]),
  ];
}

/** Per section, what changed between two policy versions (or `no changes`). */
export function formatPolicyChanges(sections: readonly PolicySectionDiffView[]): string[] {
  if (sections.length === 0) return ['  no changes: the same rules'];
  return sections.flatMap((s) => [`  ${s.section} (${s.change}):`, ...s.lines.map((l) => `    ${l}`)]);
}

/** A dry run: the decision, each check, the approvals and who could give them, break-glass. */
export function formatEvaluation(e: PromotionEvaluationView): string[] {
  return [
    `dry run: ${e.artifact} into ${e.environment} (policy v${e.policyVersion})`,
    `  would be: ${e.decision}`,
    ...e.checks.flatMap((c) => [
      `  check ${c.kind}: ${c.status} — ${c.summary}`,
      ...c.blocking.map((b) => `    ${b}`),
    ]),
    `  approvals needed: ${e.approvals.required}${e.approvals.rules
      .map((r) => ` [${r.name}: ${r.required}${r.groups ? ` from ${r.groups.join(' or ')}` : ''}]`)
      .join('')}`,
    ...e.approvals.approvers.map((a) => `    approver: ${a}`),
    ...e.approvals.excluded.map((a) => `    may not approve: ${a}`),
    `  break-glass: ${e.breakGlass.couldApply ? 'could apply' : 'no'} (${e.breakGlass.reason})`,
    ...e.conditions.map((c) => `  ${c.kind}: ${c.state} — ${c.detail}`),
  ];
}

export function formatWaiverTable(items: readonly WaiverView[]): string[] {
  if (items.length === 0) return ['no waivers'];
  return table(
    ['ID', 'STATE', 'CHECK', 'FINDING', 'SCOPE', 'EXPIRES', 'REQUESTED BY'],
    items.map((w) => [
      w.id,
      w.state,
      w.check,
      w.finding ?? '(whole check)',
      w.digest ? short(w.digest) : (w.repositoryPattern ?? ''),
      w.expiresAt,
      w.requestedBy,
    ]),
  );
}

export function formatPolicyTable(items: readonly PolicyVersionView[]): string[] {
  if (items.length === 0) return ['no policy versions'];
  return table(
    ['VERSION', 'ACTIVE', 'CREATED', 'BY', 'SHA256'],
    items.map((v) => [String(v.version), v.active ? 'yes' : '', v.createdAt, v.createdBy, short(v.sha256)]),
  );
}

/** The verification report: the head, and the first broken link or checkpoint problem. */
export function formatVerification(v: AuditVerification, source: string): string[] {
  // Matched counts only checkpoints whose hash the chain still has: never "1 matched" beside the
  // mismatch that same checkpoint is.
  const compared = v.checkpointsChecked;
  const matched = v.checkpointsMatched ?? compared;
  const lines = [
    `audit chain (${source}): ${v.ok ? 'OK' : 'BROKEN'}`,
    ...fields([
      ['links verified', String(v.checked)],
      [v.ok ? 'head' : 'last sound link', `seq ${v.head.seq} hash ${v.head.hash}`],
      ['checkpoints', matched === compared ? `${matched} matched` : `${matched} of ${compared} matched`],
    ]),
  ];
  const b = v.firstBrokenLink;
  if (b) {
    lines.push(`  first broken link: seq ${b.seq}: ${b.problem.replace(/_/g, ' ')}`);
    lines.push(`    expected ${b.expected}`, `    found    ${b.found}`);
  }
  const c = v.firstCheckpointMismatch;
  if (c) {
    lines.push(`  checkpoint problem: seq ${c.seq}: ${c.problem.replace(/_/g, ' ')}`);
    switch (c.problem) {
      case 'checkpoint_mismatch':
      case 'checkpoint_beyond_head':
        lines.push(`    expected ${c.expected}`, `    found    ${c.found}`);
        break;
      case 'checkpoint_key_unknown':
        lines.push(`    signed by key ${c.keyId || '(none named)'}, which is not in the key set`);
        break;
      case 'checkpoint_key_not_valid':
        lines.push(`    ${c.detail}`);
        break;
      case 'checkpoint_signature_invalid':
        lines.push(`    the signature does not verify with key ${c.keyId || '(none named)'}`);
        break;
    }
  }
  return lines;
}

/** A proposed change, and what became of it. */
export function formatChange(c: ChangeView): string[] {
  return [
    `change ${c.id}: ${c.status}`,
    ...fields([
      ['kind', c.kind],
      ['summary', c.summary],
      ['proposed', `${c.createdAt} by ${c.proposedBy}`],
      ...(c.decidedAt ? [['decided', `${c.decidedAt} by ${c.decidedBy ?? '?'}`] as const] : []),
      ...(c.comment ? [['comment', c.comment] as const] : []),
    ]),
  ];
}

export function formatChangeTable(items: readonly ChangeView[]): string[] {
  if (items.length === 0) return ['no changes'];
  return table(
    ['ID', 'STATUS', 'KIND', 'PROPOSED BY', 'SUMMARY'],
    items.map((c) => [c.id, c.status, c.kind, c.proposedBy, c.summary]),
  );
}
