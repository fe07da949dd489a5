/**
 * What keeps an event until it is published (docs/architecture.md, "The outbox"). Two kinds of entries, one
 * queue: events a writer stored beside its change in the same transaction (a NotificationUnhandled), published
 * at once from the stream; and events whose publish failed, kept at the first failure, so that they can still be
 * published after the stream's 24 hours, whatever Lambda's retries did. A sweep publishes every entry due.
 */
import { type Budget, inTime, keeping, RECORD_MS, UNBOUNDED } from './budget';
import type { Clock, EventPublisher, Outbox, OutboxEntry, OutboxEvent } from './ports';

export interface OutboxDeps {
  publisher: EventPublisher;
  outbox: Outbox;
  clock: Clock;
}

/**
 * A failed publish is first retried by Lambda from the stream (in order, up to its retry limit, within minutes);
 * the sweep takes over once those retries are surely over.
 */
export const KEPT_SWEEP_AFTER_MS = 15 * 60_000;

/** A stored entry is published from the stream within seconds; the sweep is its safety net. */
export const STORED_SWEEP_AFTER_MS = 5 * 60_000;

/** After each failed attempt of the sweep: 5 minutes, doubling, at most an hour. */
const RETRY_FIRST_MS = 5 * 60_000;
const RETRY_MAX_MS = 60 * 60_000;

/**
 * Less than this left of the invocation, and no publish starts: one PutEvents (its SDK retries bounded by what is
 * left) and the write that follows it, keeping or forgetting the event.
 */
export const PUBLISH_MS = 5_000;

/** The entry a writer stores with its change, to be announced even if it dies right after its commit. */
export function storedEntry(event: OutboxEvent, now: number): OutboxEntry {
  return {
    event,
    attempts: 0,
    next_attempt_at: new Date(now + STORED_SWEEP_AFTER_MS).toISOString(),
    created_at: new Date(now).toISOString(),
  };
}

/**
 * Keeps what a publish could not deliver, within `budget`; a failure to keep it is the caller's to report (Lambda
 * retries).
 */
export async function keepUndelivered(
  deps: OutboxDeps,
  events: OutboxEvent[],
  error: unknown,
  budget: Budget = UNBOUNDED,
): Promise<void> {
  if (events.length === 0) return;
  const now = deps.clock();
  const kept = deps.outbox.keep(events, describe(error), now, now + KEPT_SWEEP_AFTER_MS);
  return inTime(budget, kept, 'DynamoDB', 'keeping the unpublished events');
}

/**
 * Publishes one entry within `budget`: forgotten once published, otherwise tried again later (true when
 * published). A publish that outlasts its time counts as failed; if it landed after all, the event goes out twice.
 */
export async function deliver(
  deps: OutboxDeps,
  entry: OutboxEntry,
  budget: Budget = UNBOUNDED,
): Promise<boolean> {
  const eventId = entry.event.detail.event_id;
  try {
    await publishWithin(deps, [entry.event], keeping(budget, RECORD_MS));
  } catch (error) {
    const backoff = Math.min(RETRY_FIRST_MS * 2 ** entry.attempts, RETRY_MAX_MS);
    const postponed = deps.outbox.postpone(entry, deps.clock() + backoff, describe(error));
    await inTime(budget, postponed, 'DynamoDB', `postponing outbox entry ${eventId}`);
    return false;
  }
  await inTime(budget, deps.outbox.remove(entry.event), 'DynamoDB', `forgetting outbox entry ${eventId}`);
  return true;
}

/** `events` on the bus before `budget` runs out, or a DependencyUnavailable saying it did not answer in time. */
export function publishWithin(deps: Pick<OutboxDeps, 'publisher'>, events: OutboxEvent[], budget: Budget) {
  return inTime(budget, deps.publisher.publish(events), 'EventBridge', 'PutEvents');
}

/** Every entry, whenever it is due: what an operator lists, or replays at once. */
const END_OF_TIME = '9999-12-31T23:59:59.999Z';

/** The entries waiting, the next due first (an operator's view: no personal data in them). */
export function listKept(deps: Pick<OutboxDeps, 'outbox'>, limit: number): Promise<OutboxEntry[]> {
  return deps.outbox.due(END_OF_TIME, limit);
}

export interface SweepReport {
  published: number;
  failed: number;
  /** Event ids still waiting, for the operator's list and the OutboxPending metric. */
  pending: string[];
}

/**
 * Publishes the entries due (or, for an operator's replay, every entry), the longest due first, one at a time so
 * that a throttled bus is not hammered. What fails stays, with its backoff, for the next sweep; so does what the
 * invocation's time (`budget`) leaves no room for.
 */
export async function sweep(
  deps: OutboxDeps,
  options: { limit: number; all?: boolean; budget?: Budget },
): Promise<SweepReport> {
  const budget = options.budget ?? UNBOUNDED;
  const until = options.all ? END_OF_TIME : new Date(deps.clock()).toISOString();
  const entries = await deps.outbox.due(until, options.limit);
  const report: SweepReport = { published: 0, failed: 0, pending: [] };
  for (const entry of entries) {
    if (budget.remainingMs() < PUBLISH_MS) {
      report.pending.push(entry.event.detail.event_id);
      continue;
    }
    if (await deliver(deps, entry, budget)) report.published++;
    else {
      report.failed++;
      report.pending.push(entry.event.detail.event_id);
    }
  }
  return report;
}

/** Error text for the entry (the operator's clue); events and their errors never hold personal data. */
function describe(error: unknown): string {
  return error instanceof Error
    ? `${error.name}: ${error.message}`.slice(0, 500)
    : String(error).slice(0, 500);
}
