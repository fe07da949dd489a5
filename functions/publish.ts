import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent, StreamRecord } from 'aws-lambda';
import { type PublishDeps, publishDeps } from '../lib/config';
import { eventsFor } from '../lib/contracts/events';
import type { ContractRecord } from '../lib/contracts/model';
import { logger, metrics, tracer } from '../lib/observability';

type Image = StreamRecord['NewImage'];

// Lambda's stream JSON differs from the SDK's AttributeValue only for binary (base64 text instead of bytes),
// which contract records do not hold.
const record = (image: Image): ContractRecord | undefined =>
  image ? (unmarshall(image as Record<string, AttributeValue>) as ContractRecord) : undefined;

/**
 * The contracts table's stream (NEW_AND_OLD_IMAGES) -> EventBridge: the outbox that makes events
 * at-least-once even when a writer dies after its commit. Records are published one by one, in order; the
 * first failure is reported as a batch item failure (`functionResponseType: ReportBatchItemFailures`), so
 * Lambda retries from that record and never skips or reorders a change.
 */
export function makeHandler(deps: () => PublishDeps) {
  async function main(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
    const { publisher } = deps();
    let published = 0;
    let response: DynamoDBBatchResponse = { batchItemFailures: [] };
    for (const change of event.Records) {
      try {
        const events = eventsFor(record(change.dynamodb?.OldImage), record(change.dynamodb?.NewImage));
        if (events.length === 0) continue;
        await publisher.publish(events);
        published += events.length;
        logger.debug('contract events published', { event_ids: events.map((e) => e.detail.event_id) });
      } catch (error) {
        response = failedFrom(change, error);
        break;
      }
    }
    // One data point per invocation, zero included: most changes (PRESIGNING claims) announce nothing.
    metrics.addMetric('EventsPublished', MetricUnit.Count, published);
    return response;
  }

  return middy(main)
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

function failedFrom(change: DynamoDBRecord, error: unknown): DynamoDBBatchResponse {
  const sequenceNumber = change.dynamodb?.SequenceNumber ?? '';
  metrics.addMetric('EventPublishFailed', MetricUnit.Count, 1);
  logger.error('publishing contract events failed; Lambda retries from this record', {
    out_contract_code: change.dynamodb?.Keys?.out_contract_code?.S,
    sequence_number: sequenceNumber,
    event_name: change.eventName,
    error,
  });
  // An empty identifier (no sequence number, which Lambda always sends) makes Lambda retry the whole batch.
  return { batchItemFailures: [{ itemIdentifier: sequenceNumber }] };
}

export const handler = makeHandler(publishDeps);
