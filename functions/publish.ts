import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type {
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
  StreamRecord,
} from 'aws-lambda';
import { isOutboxKey, outboxEntryOf } from '../lib/aws/outbox';
import { type PublishDeps, publishDeps } from '../lib/config/publish-deps';
import { processRuntime, type Runtime } from '../lib/config/runtime';
import { ANSWER_MS, type Budget, keeping, RECORD_MS, remainingTime } from '../lib/contracts/budget';
import { eventsFor } from '../lib/contracts/events';
import type { ContractRecord } from '../lib/contracts/model';
import { deliver, keepUndelivered, PUBLISH_MS, publishWithin } from '../lib/contracts/outbox';
import { lambda, type Wiring } from '../lib/http/lambda';
import { recordMetric } from '../lib/metrics';
import { logger } from '../lib/observability';
import { repaymentEventsFor, type ServiceEvent } from '../lib/repayments/events';

type Image = StreamRecord['NewImage'];

const OUT_OF_TIME = "too little of the function's time left to publish the rest of the batch";

// Lambda's stream JSON differs from the SDK's AttributeValue only for binary (base64 text instead of bytes),
// which our records and outbox entries do not hold.
const item = (image: Image): Record<string, unknown> | undefined =>
  image ? unmarshall(image as Record<string, AttributeValue>) : undefined;

/**
 * Both tables' streams come here: repayment items are keyed by `pk`, contracts by `out_contract_code`; outbox
 * entries (events already) announce nothing of their own.
 */
function eventsOf(change: DynamoDBRecord): ServiceEvent[] {
  if (isOutboxKey(change.dynamodb?.Keys?.out_contract_code?.S)) return [];
  const [before, after] = [item(change.dynamodb?.OldImage), item(change.dynamodb?.NewImage)];
  if (change.dynamodb?.Keys?.pk) return repaymentEventsFor(before, after);
  return eventsFor(before as ContractRecord | undefined, after as ContractRecord | undefined);
}

/**
 * The contracts and repayments tables' streams (NEW_AND_OLD_IMAGES) -> EventBridge: the outbox that makes events
 * at-least-once even when a writer dies after its commit. Records are published one by one, in order; the
 * first failure keeps its events and those of every record behind it in the outbox (so they outlive the stream's
 * 24 hours and Lambda's retries) and is reported as a batch item failure (`ReportBatchItemFailures`), so Lambda
 * retries from that record. An outbox entry a writer stored is published as it arrives; if that fails, the
 * outbox sweep publishes it later (functions/outbox.ts), and the stream need not wait for it.
 */
export function makeHandler(wiring: Wiring<PublishDeps>) {
  async function main(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
    const deps = await wiring.load();
    // Killed at its timeout, the whole batch would count as one failed retry with nothing kept; so each publish
    // keeps time to keep what is left, and the function stops, keeping the rest, before it is killed.
    const budget = keeping(remainingTime(context), ANSWER_MS);
    let published = 0;
    for (const [index, change] of event.Records.entries()) {
      if (isOutboxKey(change.dynamodb?.Keys?.out_contract_code?.S)) {
        const stored = change.eventName === 'INSERT' ? item(change.dynamodb?.NewImage) : undefined;
        if (stored && (await deliverStored(deps, stored, budget))) published++;
        continue;
      }
      try {
        if (budget.remainingMs() < PUBLISH_MS) throw new Error(OUT_OF_TIME);
        // An image that cannot be read is a failure too, never a change skipped.
        const events = eventsOf(change);
        if (events.length === 0) continue;
        await publishWithin(deps, events, keeping(budget, RECORD_MS));
        published += events.length;
        const kind = change.dynamodb?.Keys?.pk ? 'repayment' : 'contract';
        logger.debug(`${kind} events published`, { event_ids: events.map((e) => e.detail.event_id) });
      } catch (error) {
        // This change and every one behind it in the batch: while the bus refuses, Lambda retries this record
        // and advances past it only after its last retry, so the stream could drop the later ones unkept.
        const waiting = event.Records.slice(index).flatMap(readableEventsOf);
        await keepUndelivered(deps, waiting, error, budget).catch((keepError: unknown) =>
          logger.error('the unpublished events could not be kept in the outbox; only the stream holds them', {
            event_ids: waiting.map((e) => e.detail.event_id),
            error: keepError,
          }),
        );
        // One data point per invocation, zero included: most changes (PRESIGNING claims) announce nothing.
        recordMetric('EventsPublished', published);
        return failedFrom(change, error);
      }
    }
    recordMetric('EventsPublished', published);
    return { batchItemFailures: [] };
  }

  return lambda(main, wiring);
}

/** The same, for keeping: a record whose image cannot be read stays the stream's (its retries and DLQ). */
function readableEventsOf(change: DynamoDBRecord): ServiceEvent[] {
  try {
    return eventsOf(change);
  } catch {
    return [];
  }
}

/** A stored entry, published at once; a failure leaves it, pushed back, for the sweep. */
async function deliverStored(
  deps: PublishDeps,
  stored: Record<string, unknown>,
  budget: Budget,
): Promise<boolean> {
  const entry = outboxEntryOf(stored);
  // One this function kept after a failure (attempts counted) waits for the sweep: the stream still retries
  // its change, and publishing it now as well would send it twice at once. Out of time: the sweep publishes it
  // too, as it would any stored entry whose first publish failed.
  if (entry.attempts > 0 || budget.remainingMs() < PUBLISH_MS) return false;
  try {
    if (await deliver(deps, entry, budget)) {
      recordMetric('EventsRepublished');
      return true;
    }
    recordMetric('EventPublishFailed');
    logger.warn('a stored event could not be published; the outbox sweep retries it', {
      event_id: entry.event.detail.event_id,
    });
  } catch (error) {
    logger.warn('a stored event may not be settled; the outbox sweep takes it', {
      event_id: entry.event.detail.event_id,
      error,
    });
  }
  return false;
}

function failedFrom(change: DynamoDBRecord, error: unknown): DynamoDBBatchResponse {
  const sequenceNumber = change.dynamodb?.SequenceNumber ?? '';
  recordMetric('EventPublishFailed');
  logger.error('publishing events failed; kept in the outbox, and Lambda retries from this record', {
    key: change.dynamodb?.Keys?.out_contract_code?.S ?? change.dynamodb?.Keys?.pk?.S,
    sequence_number: sequenceNumber,
    event_name: change.eventName,
    error,
  });
  // An empty identifier (no sequence number, which Lambda always sends) makes Lambda retry the whole batch.
  return { batchItemFailures: [{ itemIdentifier: sequenceNumber }] };
}

/** This function on a given runtime: the local stack passes one whose clock it can move. */
export const handlerFor = (runtime: Runtime) => makeHandler(publishDeps(runtime));
export const handler = handlerFor(processRuntime);
