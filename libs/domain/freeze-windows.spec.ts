import {
  type FreezeWindow,
  freezeAt,
  freezeSectionProblems,
  nextOccurrences,
  occurrenceAt,
} from './freeze-windows';

const at = (iso: string): Date => new Date(iso);

describe('freeze windows', () => {
  describe('across a daylight-saving change (Europe/Berlin, 29 March 2026: 02:00 CET → 03:00 CEST)', () => {
    // Every day 01:00 to 05:00 local time: four hours of wall clock, three of real time on the night
    // the clocks go forward.
    const nightly: FreezeWindow = {
      name: 'nightly',
      kind: 'deny',
      cron: '0 1 * * *',
      duration: '4h',
      timezone: 'Europe/Berlin',
    };

    it('starts at 01:00 local time before and after the change (00:00Z in winter, 23:00Z in summer)', () => {
      const next = nextOccurrences(nightly, at('2026-03-28T12:00:00Z'), 3);
      expect(next.map((o) => o.start.toISOString())).toEqual([
        '2026-03-29T00:00:00.000Z', // 01:00 CET
        '2026-03-29T23:00:00.000Z', // 01:00 CEST
        '2026-03-30T23:00:00.000Z',
      ]);
      // A duration is real time: four hours after 01:00 CET is 06:00 CEST that night.
      expect(next[0].end.toISOString()).toBe('2026-03-29T04:00:00.000Z');
    });

    it('holds inside the occurrence and lets go when it ends, on the night of the change', () => {
      expect(freezeAt([nightly], at('2026-03-29T01:30:00Z'))).toEqual({
        frozen: true,
        until: at('2026-03-29T04:00:00Z'),
        by: ['nightly'],
      });
      expect(freezeAt([nightly], at('2026-03-29T04:00:00Z'))).toEqual({ frozen: false });
    });

    it('finds a start that falls in the skipped hour at the first instant after it (03:00 CEST)', () => {
      const skipped: FreezeWindow = { ...nightly, name: 'two-thirty', cron: '30 2 * * *', duration: '1h' };
      const next = nextOccurrences(skipped, at('2026-03-28T12:00:00Z'), 2).map((o) => o.start.toISOString());
      expect(next[0]).toBe('2026-03-29T01:00:00.000Z');
      expect(next[1]).toBe('2026-03-30T00:30:00.000Z'); // 02:30 CEST
    });

    it('runs an occurrence once on the night the clocks go back (25 October 2026)', () => {
      const next = nextOccurrences(nightly, at('2026-10-24T12:00:00Z'), 2).map((o) => o.start.toISOString());
      expect(next).toEqual(['2026-10-24T23:00:00.000Z', '2026-10-26T00:00:00.000Z']);
    });
  });

  describe('a window that spans midnight (Friday 22:00 to Monday 06:00, America/New_York)', () => {
    const weekend: FreezeWindow = {
      name: 'weekend',
      kind: 'deny',
      cron: '0 22 * * 5',
      duration: '56h',
      timezone: 'America/New_York',
    };

    it('holds from Friday night over both midnights and ends on Monday morning', () => {
      // Friday 6 March 2026 22:00 EST = Saturday 03:00Z.
      const sat = freezeAt([weekend], at('2026-03-07T05:00:00Z'));
      expect(sat).toEqual({ frozen: true, until: at('2026-03-09T11:00:00Z'), by: ['weekend'] });
      // Sunday just after midnight local time.
      expect(freezeAt([weekend], at('2026-03-08T05:30:00Z')).frozen).toBe(true);
      // Friday 21:59 local: not yet.
      expect(freezeAt([weekend], at('2026-03-07T02:59:00Z'))).toEqual({ frozen: false });
    });

    it('keeps its real-time length when the clocks go forward inside it (8 March 2026)', () => {
      const o = occurrenceAt(weekend, at('2026-03-08T12:00:00Z'));
      expect(o?.start.toISOString()).toBe('2026-03-07T03:00:00.000Z');
      // 56 hours later is 07:00 EDT on Monday (06:00 EST would be, without the change).
      expect(o?.end.toISOString()).toBe('2026-03-09T11:00:00.000Z');
    });
  });

  describe('allow windows and one-off ranges', () => {
    const businessHours: FreezeWindow = {
      name: 'business-hours',
      kind: 'allow',
      cron: '0 9 * * 1-5',
      duration: '8h',
      timezone: 'UTC',
    };
    const holidays: FreezeWindow = {
      name: 'holidays',
      kind: 'deny',
      from: '2026-12-24T00:00:00Z',
      until: '2026-12-28T00:00:00Z',
    };

    it('opens only inside an allow window and says when the next one opens', () => {
      expect(freezeAt([businessHours], at('2026-06-03T10:00:00Z'))).toEqual({ frozen: false });
      expect(freezeAt([businessHours], at('2026-06-03T18:00:00Z'))).toEqual({
        frozen: true,
        until: at('2026-06-04T09:00:00Z'),
        by: ['allow'],
      });
    });

    it('steps over a deny range into the next allow window after it', () => {
      // Thursday 24 December, 10:00: inside business hours but inside the holidays; the 28th is a Monday.
      expect(freezeAt([businessHours, holidays], at('2026-12-24T10:00:00Z'))).toEqual({
        frozen: true,
        until: at('2026-12-28T09:00:00Z'),
        by: ['holidays'],
      });
    });

    it('lists a one-off range until it has ended', () => {
      expect(nextOccurrences(holidays, at('2026-12-25T00:00:00Z'), 3)).toHaveLength(1);
      expect(nextOccurrences(holidays, at('2026-12-28T00:00:00Z'), 3)).toEqual([]);
    });
  });

  it('refuses patterns croner cannot read, unknown zones, ranges that end first and duplicate names', () => {
    expect(
      freezeSectionProblems({
        windows: [
          { name: 'a', kind: 'deny', cron: 'every friday', duration: '1h', timezone: 'UTC' },
          { name: 'b', kind: 'deny', cron: '0 1 * * *', duration: '1h', timezone: 'Mars/Olympus' },
          { name: 'c', kind: 'deny', from: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' },
          { name: 'c', kind: 'allow', from: '2026-01-01T00:00:00Z', until: '2026-01-02T00:00:00Z' },
        ],
      }),
    ).toEqual([
      expect.stringMatching(/^\/freeze\/windows\/0\/cron: /),
      '/freeze/windows/1/timezone: "Mars/Olympus" is not an IANA time zone',
      '/freeze/windows/2/until: must be after from',
      '/freeze/windows/3/name: duplicate window name "c"',
    ]);
  });
});
