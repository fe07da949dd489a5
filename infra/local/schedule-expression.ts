/**
 * EventBridge schedule expressions as serverless.yml's `schedule` events state them: `rate(value unit)` and the
 * six-field `cron(minutes hours day-of-month month day-of-week year)` with AWS's extensions (`?`, `L`, `LW`,
 * `nW`, `n#k`, `nL`, month and weekday names; weekday 1 is Sunday). Pure: parsing and "when is the next run",
 * no timers and no clock of its own.
 */

export type ScheduleExpression = RateExpression | CronExpression;

export interface RateExpression {
  kind: 'rate';
  text: string;
  periodMs: number;
}

export interface CronExpression {
  kind: 'cron';
  text: string;
  minutes: number[];
  hours: number[];
  /** `?` is "any": the other day field decides. */
  dayOfMonth:
    | { any: true }
    | { days: Set<number> }
    | { last: true; weekday: boolean }
    | { nearestWeekdayTo: number };
  months: Set<number>;
  dayOfWeek: { any: true } | { days: Set<number> } | { lastOf: number } | { nth: number; of: number };
  /** Undefined: every year. */
  years?: Set<number>;
}

export class ScheduleExpressionError extends Error {
  override readonly name = 'ScheduleExpressionError';
}

const MINUTE_MS = 60_000;
const DAY_MS = 1440 * MINUTE_MS;
const UNIT_MS: Record<string, number> = { minute: MINUTE_MS, hour: 60 * MINUTE_MS, day: DAY_MS };
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
/** EventBridge's year range. */
const LAST_YEAR = 2199;

export function parseScheduleExpression(text: string): ScheduleExpression {
  const fail = (issue: string): never => {
    throw new ScheduleExpressionError(`${text}: ${issue}`);
  };
  const rate = /^rate\((.*)\)$/.exec(text.trim());
  if (rate) {
    const m = /^\s*(\d+)\s+(minute|hour|day)(s?)\s*$/.exec(rate[1] ?? '');
    if (!m) return fail('a rate is "rate(<whole number> minute(s)|hour(s)|day(s))"');
    const [, digits, unit, plural] = m as unknown as [string, string, string, string];
    const value = Number(digits);
    if (value < 1) fail('the rate value must be 1 or more');
    // EventBridge refuses "rate(1 minutes)" and "rate(5 minute)"; accepting them here would hide a deploy error.
    if ((value === 1) !== (plural === '')) fail(`use "${unit}" for a value of 1 and "${unit}s" otherwise`);
    return { kind: 'rate', text, periodMs: value * (UNIT_MS[unit] as number) };
  }
  const cron = /^cron\((.*)\)$/.exec(text.trim());
  if (!cron)
    return fail('not a schedule expression: use rate(...) or cron(...) (at(...) is not run locally)');
  const fields = (cron[1] ?? '').trim().split(/\s+/);
  if (fields.length !== 6)
    return fail(`cron takes 6 fields (minutes hours day-of-month month day-of-week year)`);
  const [min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  const field = (value: string, name: string, lo: number, hi: number, names: string[] = [], base = lo) => {
    try {
      return parseField(value, lo, hi, names, base);
    } catch (error) {
      return fail(`${name} "${value}": ${(error as Error).message}`);
    }
  };
  if ((dom === '?') === (dow === '?')) fail('exactly one of day-of-month and day-of-week must be "?"');
  return {
    kind: 'cron',
    text,
    minutes: [...field(min, 'minutes', 0, 59)].sort((a, b) => a - b),
    hours: [...field(hour, 'hours', 0, 23)].sort((a, b) => a - b),
    dayOfMonth: ((): CronExpression['dayOfMonth'] => {
      if (dom === '?') return { any: true };
      if (dom === 'L' || dom === 'LW') return { last: true, weekday: dom === 'LW' };
      const w = /^(\d+)W$/.exec(dom);
      if (w) return { nearestWeekdayTo: [...field(w[1] ?? '', 'day-of-month', 1, 31)][0] as number };
      return { days: field(dom, 'day-of-month', 1, 31) };
    })(),
    months: field(month, 'month', 1, 12, MONTHS),
    dayOfWeek: ((): CronExpression['dayOfWeek'] => {
      if (dow === '?') return { any: true };
      const weekday = (v: string) => [...field(v, 'day-of-week', 1, 7, WEEKDAYS)][0] as number;
      const last = /^(\w+)L$/.exec(dow);
      if (last) return { lastOf: weekday(last[1] ?? '') };
      const nth = /^(\w+)#(\d)$/.exec(dow);
      if (nth) {
        const n = Number(nth[2]);
        if (n < 1 || n > 5) fail(`day-of-week "${dow}": the week after # is 1 to 5`);
        return { nth: n, of: weekday(nth[1] ?? '') };
      }
      return { days: field(dow, 'day-of-week', 1, 7, WEEKDAYS) };
    })(),
    ...(year === '*' ? {} : { years: field(year, 'year', 1970, LAST_YEAR) }),
  };
}

/** One cron field of `*`, `a`, `a-b`, with an optional `/step`, comma-separated. */
function parseField(text: string, lo: number, hi: number, names: string[], base: number): Set<number> {
  const value = (token: string): number => {
    const named = names.indexOf(token.toUpperCase());
    const n = named >= 0 ? named + base : /^\d+$/.test(token) ? Number(token) : Number.NaN;
    if (!(n >= lo && n <= hi))
      throw new Error(`"${token}" is not in ${lo}-${hi}${names.length ? ' or a name' : ''}`);
    return n;
  };
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText, extra] = part.split('/');
    if (extra !== undefined || stepText === '' || (stepText !== undefined && !/^\d+$/.test(stepText))) {
      throw new Error(`"${part}" has a bad step (want a/step with a whole number)`);
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) throw new Error('a step must be 1 or more');
    const ends = range === '*' ? [lo, hi] : range.split('-').map(value);
    // `a/step` runs from a to the end of the field.
    const [from, to] = ends.length === 1 ? [ends[0], stepText === undefined ? ends[0] : hi] : ends;
    if (ends.length > 2 || from === undefined || to === undefined || from > to) {
      throw new Error(`"${range}" is not a value or a rising range a-b`);
    }
    for (let n = from; n <= to; n += step) out.add(n);
  }
  return out;
}

/**
 * The first run strictly after `afterMs` (epoch ms). A rate runs every period from `originMs` (when the rule
 * was created); a cron runs on the wall clock of `timeZone` (an IANA name; default UTC, as EventBridge rules do).
 * Undefined when a cron never matches again (its years are past).
 */
export function nextRun(
  expression: ScheduleExpression,
  afterMs: number,
  { originMs = 0, timeZone }: { originMs?: number; timeZone?: string } = {},
): number | undefined {
  if (expression.kind === 'rate') {
    const p = expression.periodMs;
    return originMs + (Math.floor((afterMs - originMs) / p) + 1) * p;
  }
  const zone = new Zone(timeZone);
  let from = Math.floor(zone.wall(afterMs) / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  for (;;) {
    const wall = nextWall(expression, from);
    if (wall === undefined) return undefined;
    const instant = zone.instant(wall);
    // Only a wall time repeated when the clocks go back can land at or before `afterMs`.
    if (instant > afterMs) return instant;
    from = wall + MINUTE_MS;
  }
}

/** The first wall-clock minute at or after `from` (wall time written as if it were UTC) that the cron matches. */
function nextWall(c: CronExpression, from: number): number | undefined {
  const start = new Date(from);
  let [y, m, d] = [start.getUTCFullYear(), start.getUTCMonth() + 1, start.getUTCDate()];
  let [h, min] = [start.getUTCHours(), start.getUTCMinutes()];
  const nextDay = () => {
    d++;
    [h, min] = [0, 0];
  };
  while (y <= LAST_YEAR) {
    if (c.years && !c.years.has(y)) {
      [y, m, d, h, min] = [y + 1, 1, 1, 0, 0];
    } else if (!c.months.has(m) || d > daysIn(y, m)) {
      [m, d, h, min] = [m + 1, 1, 0, 0];
      if (m > 12) [y, m] = [y + 1, 1];
    } else if (!dayMatches(c, y, m, d)) {
      nextDay();
    } else {
      const hour = c.hours.find((x) => x > h || (x === h && c.minutes.some((mm) => mm >= min)));
      if (hour === undefined) {
        nextDay();
        continue;
      }
      const minute = (hour === h ? c.minutes.find((mm) => mm >= min) : c.minutes[0]) as number;
      return Date.UTC(y, m - 1, d, hour, minute);
    }
  }
  return undefined;
}

const daysIn = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();
/** 1 = Sunday … 7 = Saturday, as in EventBridge cron. */
const weekdayOf = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 1;
const isWeekday = (y: number, m: number, d: number) => ![1, 7].includes(weekdayOf(y, m, d));

function dayMatches(c: CronExpression, y: number, m: number, d: number): boolean {
  const last = daysIn(y, m);
  const dom = c.dayOfMonth;
  if ('days' in dom) return dom.days.has(d);
  if ('last' in dom) {
    if (!dom.weekday) return d === last;
    let target = last;
    while (!isWeekday(y, m, target)) target--;
    return d === target;
  }
  if ('nearestWeekdayTo' in dom) {
    const n = dom.nearestWeekdayTo;
    if (n > last) return false;
    // The nearest Monday to Friday, never leaving the month: a Saturday moves to the Friday before (to the
    // Monday after when it is the 1st), a Sunday to the Monday after (to the Friday before when it is the last).
    const wd = weekdayOf(y, m, n);
    const target = wd === 7 ? (n === 1 ? 3 : n - 1) : wd === 1 ? (n === last ? n - 2 : n + 1) : n;
    return d === target;
  }
  const dow = c.dayOfWeek;
  const wd = weekdayOf(y, m, d);
  if ('days' in dow) return dow.days.has(wd);
  if ('lastOf' in dow) return wd === dow.lastOf && d + 7 > last;
  if ('nth' in dow) return wd === dow.of && Math.ceil(d / 7) === dow.nth;
  return true;
}

/** Converts between instants and a time zone's wall clock, the wall clock written as a UTC epoch. */
class Zone {
  private readonly format?: Intl.DateTimeFormat;

  constructor(timeZone?: string) {
    if (timeZone && timeZone !== 'UTC') {
      this.format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    }
  }

  wall(instant: number): number {
    if (!this.format) return instant;
    const parts = this.format.formatToParts(instant);
    const n = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
    return (
      Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) + (instant % 1000)
    );
  }

  instant(wall: number): number {
    if (!this.format) return wall;
    // A day either side of a DST change, the zone's offset is one of two values. A wall time met twice (clocks
    // go back) runs at its first instant; one that never happens (clocks go forward) just after the gap.
    const offset = (instant: number) => this.wall(instant) - instant;
    const before = offset(wall - DAY_MS);
    const valid = [wall - before, wall - offset(wall + DAY_MS)].filter((t) => this.wall(t) === wall);
    return valid.length > 0 ? Math.min(...valid) : wall - before;
  }
}
