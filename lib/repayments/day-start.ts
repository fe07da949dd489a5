import type { Clock } from '../contracts/ports';
import { ValidationFailed } from '../errors';
import { beijingDate, isCalendarDate } from './dates';
import { DUE_SHARDS } from './indexes';

/** The state machine's input: only the date, the run's id, the shards and how many are worked at once. */
export interface DayRunInput {
  date: string;
  run_id: string;
  shards: number[];
  /** The Map's MaxConcurrency (MaxConcurrencyPath); each worker paces at the budget divided by it. */
  workers: number;
}

/** Starts one execution of the state machine; the execution's ARN. */
export interface DayRunStarter {
  start(name: string, input: DayRunInput): Promise<string>;
}

export interface StartDayDeps {
  starter: DayRunStarter;
  clock: Clock;
  workers: number;
}

export interface DayStarted {
  date: string;
  execution_arn: string;
}

/**
 * The scheduled function's use case: the Beijing day to run (`{"date":"yyyy-MM-dd"}` given by hand, or the
 * Beijing day of a scheduled event's `time`), and one execution for it, named `<date>-<time>` so that every
 * start is its own run. Two runs of one date may overlap: exactly once rests on the bookings' conditional
 * writes, never on there being one run.
 */
export async function startDay(deps: StartDayDeps, event: unknown): Promise<DayStarted> {
  const date = dateOf(event);
  const now = new Date(deps.clock()).toISOString();
  // Execution names allow letters, digits, '-' and '_': the time without its ':' and '.'.
  const name = `${date}-${now.replace(/[-:.]/g, '')}`;
  const input: DayRunInput = {
    date,
    run_id: name,
    shards: Array.from({ length: DUE_SHARDS }, (_, shard) => shard),
    workers: deps.workers,
  };
  return { date, execution_arn: await deps.starter.start(name, input) };
}

/** `{"date"}`, or the Beijing date of `time` (EventBridge's scheduled event, or the Scheduler's context time). */
export function dateOf(event: unknown): string {
  const fields = typeof event === 'object' && event !== null ? (event as Record<string, unknown>) : {};
  if (fields.date !== undefined) {
    if (typeof fields.date === 'string' && isCalendarDate(fields.date)) return fields.date;
    throw new ValidationFailed([{ field: '/date', issue: 'must be a calendar date written yyyy-MM-dd' }]);
  }
  const time = typeof fields.time === 'string' ? Date.parse(fields.time) : Number.NaN;
  if (Number.isFinite(time)) return beijingDate(time);
  throw new ValidationFailed([
    { field: '/date', issue: 'is required (yyyy-MM-dd), unless the event is a scheduled one with its time' },
  ]);
}
