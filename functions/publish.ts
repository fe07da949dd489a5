import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent, StreamRecord } from 'aws-lambda';
import { type PublishDeps, publishDeps } from '../lib/config/deps';
import { processRuntime, type Runtime } from '../lib/config/runtime';
import { eventsFor } from '../lib/contracts/events';
import type { ContractRecord } from '../lib/contracts/model';
import { lambda, type Wiring } from '../lib/http/lambda';
import { recordMetric } from '../lib/metrics';
import { logger } from '../lib/observability';
import { repaymentEventsFor, type ServiceEvent } from '../lib/repayments/events';

type Image = StreamRecord['NewImage'];

// Lambda's stream JSON differs from the SDK's AttributeValue only for binary (base64 text instead of bytes),
// which our records do not hold.
const item = (image: Image): Record<string, unknown> | undefined =>
  image ? unmarshall(image as Record<string, AttributeValue>) : undefined;

/** Both tables' streams come here: repayment items are keyed by `pk`, contracts by `out_contract_code`. */
function eventsOf(change: DynamoDBRecord): ServiceEvent[] {
  const [before, after] = [item(change.dynamodb?.OldImage), item(change.dynamodb?.NewImage)];
  if (change.dynamodb?.Keys?.pk) return repaymentEventsFor(before, after);
  return eventsFor(before as ContractRecord | undefined, after as ContractRecord | undefined);
}

/**
 * The contracts and repayments tables' streams (NEW_AND_OLD_IMAGES) -> EventBridge: the outbox that makes events
 * at-least-once even when a writer dies after its commit. Records are published one by one, in order; the
 * first failure is reported as a batch item failure (`functionResponseType: ReportBatchItemFailures`), so
 * Lambda retries from that record and never skips or reorders a change.
 */
export function makeHandler(wiring: Wiring<PublishDeps>) {
  async function main(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
    const { publisher } = await wiring.load();
    let published = 0;
    let response: DynamoDBBatchResponse = { batchItemFailures: [] };
    for (const change of event.Records) {
      try {
        const events = eventsOf(change);
        if (events.length === 0) continue;
        await publisher.publish(events);
        published += events.length;
        const kind = change.dynamodb?.Keys?.pk ? 'repayment' : 'contract';
        logger.debug(`${kind} events published`, { event_ids: events.map((e) => e.detail.event_id) });
      } catch (error) {
        response = failedFrom(change, error);
        break;
      }
    }
    // One data point per invocation, zero included: most changes (PRESIGNING claims) announce nothing.
    recordMetric('EventsPublished', published);
    return response;
  }

  return lambda(main, wiring);
}

function failedFrom(change: DynamoDBRecord, error: unknown): DynamoDBBatchResponse {
  const sequenceNumber = change.dynamodb?.SequenceNumber ?? '';
  recordMetric('EventPublishFailed');
  logger.error('publishing events failed; Lambda retries from this record', {
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
