import { advisorySeverity, ratingOfScore } from './severity';

describe(advisorySeverity.name, () => {
  it('scores CVSS v3.1, v3.0, v2 and v4.0 vectors', () => {
    const base = { id: 'X', modified: '2026-01-01T00:00:00Z' };
    expect(
      advisorySeverity({
        ...base,
        severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
      }),
    ).toEqual({
      severity: 'critical',
      score: 9.8,
      vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    });
    expect(
      advisorySeverity({
        ...base,
        severity: [{ type: 'CVSS_V3', score: 'CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N' }],
      }),
    ).toMatchObject({
      severity: 'low',
      score: 3.1,
    });
    expect(
      advisorySeverity({ ...base, severity: [{ type: 'CVSS_V2', score: 'AV:N/AC:L/Au:N/C:P/I:P/A:P' }] }),
    ).toMatchObject({
      severity: 'high',
      score: 7.5,
    });
    expect(
      advisorySeverity({
        ...base,
        severity: [
          { type: 'CVSS_V3', score: 'CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N' },
          { type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' },
        ],
      }),
    ).toMatchObject({ severity: 'critical', score: 9.3 });
  });

  it("falls back to the database's word, then to unknown; a broken vector is not a score", () => {
    const base = { id: 'X', modified: '2026-01-01T00:00:00Z' };
    expect(advisorySeverity({ ...base, database_specific: { severity: 'MODERATE' } }).severity).toBe(
      'medium',
    );
    expect(advisorySeverity({ ...base, severity: [{ type: 'Ubuntu', score: 'high' }] }).severity).toBe(
      'high',
    );
    expect(
      advisorySeverity({ ...base, severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:X' }] }).severity,
    ).toBe('unknown');
    expect(advisorySeverity(base)).toEqual({ severity: 'unknown', score: null, vector: null });
  });

  it.each([
    [0, 'none'],
    [0.1, 'low'],
    [3.9, 'low'],
    [4, 'medium'],
    [6.9, 'medium'],
    [7, 'high'],
    [8.9, 'high'],
    [9, 'critical'],
    [10, 'critical'],
  ])('rates %s as %s', (score, rating) => expect(ratingOfScore(score)).toBe(rating));
});
