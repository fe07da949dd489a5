/**
 * serverless.yml's `schedule` events, run by the local stack: each scheduled function is invoked on its
 * rate or cron expression, and on demand, with the event EventBridge sends (its scheduled event, or the
 * schedule's constant `input` when serverless.yml gives one).
 *
 * Time is the test clock's. The schedules follow a timeline of their own that runs `speedup` times faster than
 * the test clock (rate(5 minutes) at 10 runs every 30 s) and is pulled forward whenever the test clock is
 * advanced past it. Slots skipped by a jump run once, not once each, as a Kubernetes CronJob catches up: a day
 * advanced is one reconcile, not 288. The event's `time` is the test clock's, never the compressed timeline's,
 * so a function never sees a time ahead of the clock it reads.
 */
import { randomUUID } from 'node:crypto';
import type { LocalFunction, LocalFunctions, ScheduleEvent } from './functions';
import { nextRun } from './schedule-expression';
import type { TestClock } from './test-clock';

export interface SchedulesOptions {
  functions: LocalFunctions;
  clock: TestClock;
  /** Schedule time per test-clock time, 1 or more; 0: no timers, on demand only. */
  speedup: number;
  /** For the scheduled event's `region` and rule ARN. */
  region: string;
  log?: (line: string) => void;
}

export interface ScheduleStatus {
  function: string;
  expression: string;
  enabled: boolean;
  /** Real milliseconds until the next run; null when it runs only on demand. */
  next_in_ms: number | null;
  /** Finished runs, on schedule and on demand. */
  runs: number;
  /** The latest finished run; `time` is the test clock's when it started. */
  last?: { time: string; ok: boolean; error?: string };
}

export interface ScheduledRun {
  function: string;
  event: unknown;
  result?: unknown;
  error?: { errorType: string; errorMessage: string };
}

export interface LocalSchedules {
  list(): ScheduleStatus[];
  /** Runs the function's first schedule now, as EventBridge would; undefined when it has no schedule. */
  run(functionName: string): Promise<ScheduledRun> | undefined;
  close(): void;
}

const ACCOUNT = '000000000000';
/** setTimeout's ceiling; a longer wait wakes early and re-arms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  fn: LocalFunction;
  schedule: ScheduleEvent;
  index: number;
  /** The next slot on the schedules' own timeline (epoch ms). */
  next?: number;
  timer?: NodeJS.Timeout;
  runs: number;
  last?: ScheduleStatus['last'];
}

const SCHEDULED_TIME = '<aws.scheduler.scheduled-time>';

/** EventBridge's times have whole seconds. */
const isoSeconds = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

export function startSchedules(options: SchedulesOptions): LocalSchedules {
  const { functions, clock, speedup, region } = options;
  const log = options.log ?? (() => {});
  const entries: Entry[] = functions.list.flatMap((fn) =>
    fn.schedules.map((schedule, index) => ({ fn, schedule, index, runs: 0 })),
  );

  let anchor = { at: clock.now(), real: Date.now() };
  const origin = anchor.at;
  const timeline = () => Math.max(anchor.at + (Date.now() - anchor.real) * speedup, clock.now());
  const planned = (e: Entry) => e.schedule.enabled && speedup > 0;

  function eventOf(e: Entry): unknown {
    // EventBridge Scheduler's context attribute: the run's scheduled time, on the test clock here.
    if ('input' in e.schedule) {
      const text = JSON.stringify(e.schedule.input) ?? 'null';
      return JSON.parse(text.replaceAll(SCHEDULED_TIME, isoSeconds(clock.now())));
    }
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: ACCOUNT,
      time: isoSeconds(clock.now()),
      region,
      resources: [
        `arn:aws:events:${region}:${ACCOUNT}:rule/${functions.service}-local-${e.fn.key}-${e.index + 1}`,
      ],
      detail: {},
    };
  }

  async function fire(e: Entry): Promise<ScheduledRun> {
    const event = eventOf(e);
    const time = isoSeconds(clock.now());
    try {
      const result = await functions.invoke(e.fn, event);
      e.runs++;
      e.last = { time, ok: true };
      log(`${e.fn.key} ran (${e.schedule.expression.text}, ${time})`);
      return { function: e.fn.key, event, result };
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      e.runs++;
      e.last = { time, ok: false, error: `${error.name}: ${error.message}` };
      log(`${e.fn.key} failed (${e.schedule.expression.text}, ${time}): ${error.name}: ${error.message}`);
      return { function: e.fn.key, event, error: { errorType: error.name, errorMessage: error.message } };
    }
  }

  function arm(e: Entry): void {
    clearTimeout(e.timer);
    if (!planned(e) || e.next === undefined) return;
    const wait = Math.min(Math.max(0, (e.next - timeline()) / speedup), MAX_TIMER_MS);
    e.timer = setTimeout(() => {
      const now = timeline();
      if (e.next !== undefined && now >= e.next) {
        void fire(e);
        e.next = nextRun(e.schedule.expression, now, { originMs: origin, timeZone: e.schedule.timeZone });
      }
      arm(e);
    }, wait);
    // The stack's servers keep the process alive; a pending schedule alone must not.
    e.timer.unref();
  }

  for (const e of entries) {
    e.next = nextRun(e.schedule.expression, origin, { originMs: origin, timeZone: e.schedule.timeZone });
    arm(e);
    const when = planned(e) ? `${speedup}× faster than the test clock` : 'on demand only';
    log(`${e.fn.key} on ${e.schedule.expression.text}, ${when}`);
  }
  let closed = false;
  clock.onAdvance(() => {
    if (closed) return;
    anchor = { at: timeline(), real: Date.now() };
    for (const e of entries) arm(e);
  });

  return {
    list: () =>
      entries.map((e) => ({
        function: e.fn.key,
        expression: e.schedule.expression.text,
        enabled: e.schedule.enabled,
        next_in_ms:
          planned(e) && e.next !== undefined
            ? Math.max(0, Math.round((e.next - timeline()) / speedup))
            : null,
        runs: e.runs,
        ...(e.last ? { last: e.last } : {}),
      })),
    run: (name) => {
      const fn = functions.find(name);
      const e = entries.find((x) => x.fn === fn);
      return e && fire(e);
    },
    close: () => {
      closed = true;
      for (const e of entries) clearTimeout(e.timer);
    },
  };
}
