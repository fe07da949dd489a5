import type { Context } from 'aws-lambda';
import { outboxDeps } from '../lib/config/deps';
import type { PublishDeps } from '../lib/config/publish-deps';
import { processRuntime, type Runtime } from '../lib/config/runtime';
import { ANSWER_MS, keeping, remainingTime } from '../lib/contracts/budget';
import { listKept, type SweepReport, sweep } from '../lib/contracts/outbox';
import type { OutboxEntry } from '../lib/contracts/ports';
import { ValidationFailed } from '../lib/errors';
import { lambda, type Wiring } from '../lib/http/lambda';
import { recordMetric } from '../lib/metrics';
import { logger } from '../lib/observability';

/** Entries one invocation handles: a sweep publishes them one at a time, inside the function's time. */
const LIMIT = 100;
/** The schedule's event (anything without a command), or an operator's `{"command": "list" | "replay"}`. */
export type OutboxCommand = { command?: unknown } | undefined;

/** What an operator sees of each entry: the event's id and type, and how its publishing went. */
export interface OutboxList {
  entries: ({ event_id: string; type: string } & Omit<OutboxEntry, 'event'>)[];
}

/**
 * The outbox sweep (every 5 minutes): publishes the events kept after a failed publish once the stream's own
 * retries are over, and those a writer stored whose immediate publish failed, so none waits on the stream's
 * 24 hours. An operator lists them (`list`) or publishes every one at once (`replay`, e.g. after fixing the
 * bus): `npm run outbox -- list|replay`, or `aws lambda invoke` (docs/deploy.md).
 */
export function makeHandler(wiring: Wiring<PublishDeps>) {
  async function main(event: OutboxCommand, context: Context): Promise<SweepReport | OutboxList> {
    const command = event?.command;
    if (command !== undefined && command !== 'list' && command !== 'replay') {
      throw new ValidationFailed([{ field: '/command', issue: 'must be "list" or "replay"' }]);
    }
    const deps = await wiring.load();
    if (command === 'list') {
      const entries = (await listKept(deps, LIMIT)).map(({ event: e, ...entry }) => ({
        event_id: e.detail.event_id,
        type: e.type,
        ...entry,
      }));
      return { entries };
    }
    const report = await sweep(deps, {
      limit: LIMIT,
      all: command === 'replay',
      budget: keeping(remainingTime(context), ANSWER_MS),
    });
    recordMetric('EventsRepublished', report.published);
    if (report.failed > 0) recordMetric('EventPublishFailed', report.failed);
    recordMetric('OutboxPending', report.pending.length);
    if (report.pending.length > 0) logger.warn('outbox entries still unpublished', { ...report });
    else logger.info('outbox sweep', { ...report });
    return report;
  }

  return lambda(main, wiring);
}

/** This function on a given runtime: the local stack passes one whose clock it can move. */
export const handlerFor = (runtime: Runtime) => makeHandler(outboxDeps(runtime));
export const handler = handlerFor(processRuntime);
