import { Cron } from 'croner';
import { DURATION, parseDurationSeconds } from './duration';

/**
 * Freeze windows of an environment (the `freeze` section of its active policy). A `deny` window is
 * a time in which no promotion starts; `allow` windows, when there are any, are the only times in
 * which promotions start. A window recurs (a cron start, a duration and an IANA time zone, the
 * way GitLab's deploy freezes and Argo CD's sync windows say it) or is one date range.
 *
 * Pure: croner computes the occurrences in the window's time zone (daylight-saving changes
 * included); nothing here reads a clock, every function takes the instant it judges.
 */
export type FreezeWindowKind = 'deny' | 'allow';

export interface RecurringFreezeWindow {
  name: string;
  kind: FreezeWindowKind;
  /** When each occurrence starts: a cron pattern of five (or six, with seconds) fields. */
  cron: string;
  /** How long each occurrence lasts, e.g. `2h`, `3d`. */
  duration: string;
  /** IANA time zone the cron pattern is read in, e.g. `Europe/Berlin`. */
  timezone: string;
}

export interface OneOffFreezeWindow {
  name: string;
  kind: FreezeWindowKind;
  /** RFC 3339 instants: the window is [from, until). */
  from: string;
  until: string;
}

export type FreezeWindow = RecurringFreezeWindow | OneOffFreezeWindow;

export interface FreezeSection {
  windows: FreezeWindow[];
}

/** One occurrence of a window: [start, end). */
export interface WindowOccurrence {
  window: string;
  kind: FreezeWindowKind;
  start: Date;
  end: Date;
}

/** Whether promotions may start at an instant, and if not, why and until when. */
export type FreezeState =
  | { frozen: false }
  | {
      frozen: true;
      /** The first instant at which promotions may start again (null: never, by these windows). */
      until: Date | null;
      /** The windows that hold it: deny windows it is inside, or `allow` when outside all of them. */
      by: string[];
    };

const isRecurring = (w: FreezeWindow): w is RecurringFreezeWindow => 'cron' in w;

/** Occurrences looked at when searching for the end of a freeze; past that, "never" is answered. */
const MAX_STEPS = 1000;

/**
 * Parsed patterns, by pattern and zone: parsing is most of an evaluation's cost, and the same few
 * windows are judged again and again. Bounded: emptied when it grows past this (a memo, no I/O).
 */
const PARSED_MAX = 500;
const parsed = new Map<string, Cron>();

function cronOf(w: RecurringFreezeWindow): Cron {
  const key = `${w.timezone} ${w.cron}`;
  let cron = parsed.get(key);
  if (!cron) {
    cron = new Cron(w.cron, { timezone: w.timezone, paused: true });
    if (parsed.size >= PARSED_MAX) parsed.clear();
    parsed.set(key, cron);
  }
  return cron;
}

/** The occurrence of `w` that contains `at`, if any. */
export function occurrenceAt(w: FreezeWindow, at: Date): WindowOccurrence | null {
  if (!isRecurring(w)) {
    const start = new Date(w.from);
    const end = new Date(w.until);
    return start <= at && at < end ? { window: w.name, kind: w.kind, start, end } : null;
  }
  const ms = parseDurationSeconds(w.duration) * 1000;
  // An occurrence containing `at` starts in (at - duration, at]: the first start after at - duration.
  const start = cronOf(w).nextRun(new Date(at.getTime() - ms));
  if (!start || start > at) return null;
  return { window: w.name, kind: w.kind, start, end: new Date(start.getTime() + ms) };
}

/**
 * The next `n` occurrences of `w` that have not ended at `from` (the one `from` is inside first).
 */
export function nextOccurrences(w: FreezeWindow, from: Date, n: number): WindowOccurrence[] {
  if (!isRecurring(w)) {
    const end = new Date(w.until);
    return end > from && n > 0 ? [{ window: w.name, kind: w.kind, start: new Date(w.from), end }] : [];
  }
  const ms = parseDurationSeconds(w.duration) * 1000;
  const starts = cronOf(w).nextRuns(n, new Date(from.getTime() - ms));
  return starts.map((start) => ({
    window: w.name,
    kind: w.kind,
    start,
    end: new Date(start.getTime() + ms),
  }));
}

/**
 * Whether promotions are frozen at `at`: inside a deny window, or outside every allow window (when
 * there are allow windows). `until` is the first instant neither holds, found by stepping from one
 * window boundary to the next (overlapping and back-to-back windows included).
 */
export function freezeAt(windows: readonly FreezeWindow[], at: Date): FreezeState {
  const first = frozenBy(windows, at);
  if (!first) return { frozen: false };
  let t = first.next;
  for (let step = 0; step < MAX_STEPS && t !== null; step++) {
    const still = frozenBy(windows, t);
    if (!still) return { frozen: true, until: t, by: first.by };
    t = still.next;
  }
  return { frozen: true, until: null, by: first.by };
}

/** What holds promotions at `t` and the next instant worth looking at again; null when nothing does. */
function frozenBy(windows: readonly FreezeWindow[], t: Date): { by: string[]; next: Date | null } | null {
  const denying = windows
    .filter((w) => w.kind === 'deny')
    .map((w) => occurrenceAt(w, t))
    .filter((o): o is WindowOccurrence => o !== null);
  const allows = windows.filter((w) => w.kind === 'allow');
  const insideAllow = allows.some((w) => occurrenceAt(w, t) !== null);
  const outsideAllows = allows.length > 0 && !insideAllow;
  if (denying.length === 0 && !outsideAllows) return null;
  const candidates: Array<Date | null> = [];
  if (denying.length > 0) candidates.push(new Date(Math.max(...denying.map((o) => o.end.getTime()))));
  if (outsideAllows) {
    const starts = allows.map((w) => nextOccurrences(w, t, 1)[0]?.start ?? null);
    const known = starts.filter((s): s is Date => s !== null && s > t);
    candidates.push(known.length ? new Date(Math.min(...known.map((s) => s.getTime()))) : null);
  }
  const next = candidates.includes(null)
    ? null
    : new Date(Math.max(...(candidates as Date[]).map((d) => d.getTime())));
  return { by: [...denying.map((o) => o.window), ...(outsideAllows ? ['allow'] : [])], next };
}

/** JSON Schema of the policy's `freeze` section. */
export const FREEZE_SECTION_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['windows'],
  description: 'When promotions may not start (deny) or may only start (allow)',
  properties: {
    windows: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'kind'],
        oneOf: [{ required: ['cron', 'duration', 'timezone'] }, { required: ['from', 'until'] }],
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
          kind: { enum: ['deny', 'allow'] },
          cron: { type: 'string', minLength: 9, maxLength: 200, description: 'e.g. `0 18 * * 5`' },
          duration: { type: 'string', pattern: DURATION.source, description: 'e.g. 62h' },
          timezone: { type: 'string', minLength: 1, maxLength: 64, description: 'IANA, e.g. Europe/Berlin' },
          from: { type: 'string', maxLength: 64, description: 'RFC 3339 instant' },
          until: { type: 'string', maxLength: 64, description: 'RFC 3339 instant' },
        },
      },
    },
  },
} as const;

/** Problems beyond the schema: patterns croner parses, zones that exist, ranges that end after they start. */
export function freezeSectionProblems(section: FreezeSection, path = '/freeze'): string[] {
  const problems: string[] = [];
  const names = section.windows.map((w) => w.name);
  section.windows.forEach((w, i) => {
    const at = `${path}/windows/${i}`;
    if (names.indexOf(w.name) !== i) problems.push(`${at}/name: duplicate window name "${w.name}"`);
    if (!isRecurring(w)) {
      const from = Date.parse(w.from);
      const until = Date.parse(w.until);
      if (Number.isNaN(from) || Number.isNaN(until))
        problems.push(`${at}: from and until must be RFC 3339 instants`);
      else if (until <= from) problems.push(`${at}/until: must be after from`);
      return;
    }
    if (!isTimeZone(w.timezone)) problems.push(`${at}/timezone: "${w.timezone}" is not an IANA time zone`);
    else {
      try {
        cronOf(w);
      } catch (e) {
        problems.push(`${at}/cron: ${(e as Error).message}`);
      }
    }
  });
  return problems;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
