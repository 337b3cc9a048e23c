import { canonicalHash } from './canonical-hash';
import { type PolicyDocument } from './policy';

/** One section of a policy as a reviewer reads it. */
export const POLICY_SECTIONS = [
  'approvals',
  'signatures',
  'attestations',
  'scans.secrets',
  'scans.vulnerabilities',
  'scans.licenses',
  'waivers',
] as const;

export interface PolicySectionDiff {
  section: string;
  /** `added`: only in the newer version; `removed`: only in the older; `changed`: in both, differing. */
  change: 'added' | 'removed' | 'changed';
  /** One readable line per difference: `path: before → after`, `path: added …`, `path: removed …`. */
  lines: string[];
}

type Json = unknown;

const show = (v: Json): string => JSON.stringify(v);

function section(doc: PolicyDocument, name: string): Json {
  let v: unknown = doc;
  for (const part of name.split('.')) {
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  }
  return v;
}

const isObject = (v: Json): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Every difference below `path`, as lines. Objects compare field by field; arrays of scalars or
 * objects by membership (an allow-list gaining an entry reads as `added`), since order rarely
 * carries meaning in a policy and a shifted list would otherwise read as all changed.
 */
function differences(path: string, a: Json, b: Json, out: string[]): void {
  if (canonicalHash(a ?? null) === canonicalHash(b ?? null)) return;
  if (a === undefined) {
    out.push(`${path}: added ${show(b)}`);
    return;
  }
  if (b === undefined) {
    out.push(`${path}: removed ${show(a)}`);
    return;
  }
  if (isObject(a) && isObject(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      differences(`${path}.${key}`, a[key], b[key], out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const hashes = (xs: Json[]): string[] => xs.map((x) => canonicalHash(x ?? null));
    const [ha, hb] = [hashes(a), hashes(b)];
    const before = out.length;
    b.forEach((x, i) => {
      if (!ha.includes(hb[i])) out.push(`${path}: added ${show(x)}`);
    });
    a.forEach((x, i) => {
      if (!hb.includes(ha[i])) out.push(`${path}: removed ${show(x)}`);
    });
    if (out.length === before) out.push(`${path}: reordered`);
    return;
  }
  out.push(`${path}: ${show(a)} → ${show(b)}`);
}

/**
 * What changed from policy version `from` to version `to`, per section, in lines a person reads
 * before activating `to`. Unchanged sections are left out; an empty list means the same rules.
 */
export function diffPolicies(from: PolicyDocument, to: PolicyDocument): PolicySectionDiff[] {
  const diffs: PolicySectionDiff[] = [];
  for (const name of POLICY_SECTIONS) {
    const a = section(from, name);
    const b = section(to, name);
    const lines: string[] = [];
    differences(name, a, b, lines);
    if (lines.length === 0) continue;
    diffs.push({
      section: name,
      change: a === undefined ? 'added' : b === undefined ? 'removed' : 'changed',
      lines,
    });
  }
  return diffs;
}
