import { Cvss2, Cvss3P0, Cvss3P1, Cvss4P0 } from 'ae-cvss-calculator';
import { type Severity } from '../domain';
import { type OsvAdvisory, type OsvSeverity } from './osv';

/** An advisory's rating: from a CVSS vector when it has one, else its database's own word. */
export interface AdvisorySeverity {
  severity: Severity | 'unknown';
  /** CVSS base score, when computed from a vector. */
  score: number | null;
  vector: string | null;
}

/** CVSS v3/v4 qualitative ratings (v2 scores are mapped the same way). */
export function ratingOfScore(score: number): Severity {
  if (score === 0) return 'none';
  if (score < 4) return 'low';
  if (score < 7) return 'medium';
  if (score < 9) return 'high';
  return 'critical';
}

/** Newest CVSS version first: its score is the one NVD and GitHub now show. */
const CVSS_ORDER = ['CVSS_V4', 'CVSS_V3', 'CVSS_V2'];

function cvssScore(s: OsvSeverity): number | null {
  try {
    const v = s.score;
    const calc =
      s.type === 'CVSS_V4'
        ? new Cvss4P0(v)
        : s.type === 'CVSS_V3'
          ? v.startsWith('CVSS:3.0/')
            ? new Cvss3P0(v)
            : new Cvss3P1(v)
          : new Cvss2(v);
    const base = calc.calculateScores().base;
    return typeof base === 'number' && Number.isFinite(base) ? base : null;
  } catch {
    return null;
  }
}

/** Words databases use without a vector: GitHub's LOW/MODERATE/HIGH/CRITICAL, Ubuntu's priorities. */
const WORDS: Record<string, Severity> = {
  none: 'none',
  negligible: 'low',
  low: 'low',
  moderate: 'medium',
  medium: 'medium',
  high: 'high',
  important: 'high',
  critical: 'critical',
};

function wordOf(value: unknown): Severity | null {
  return typeof value === 'string' ? (WORDS[value.toLowerCase()] ?? null) : null;
}

export function advisorySeverity(advisory: OsvAdvisory): AdvisorySeverity {
  const listed = [
    ...(advisory.severity ?? []),
    ...(advisory.affected ?? []).flatMap((a) => a.severity ?? []),
  ];
  for (const type of CVSS_ORDER) {
    for (const s of listed.filter((x) => x.type === type)) {
      const score = cvssScore(s);
      if (score !== null) return { severity: ratingOfScore(score), score, vector: s.score };
    }
  }
  const word =
    wordOf(advisory.database_specific?.severity) ??
    listed.map((s) => wordOf(s.score)).find((w) => w !== null) ??
    (advisory.affected ?? [])
      .map((a) => wordOf(a.ecosystem_specific?.severity) ?? wordOf(a.database_specific?.severity))
      .find((w) => w !== null) ??
    null;
  return { severity: word ?? 'unknown', score: null, vector: null };
}
