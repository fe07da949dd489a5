import type { APIGatewayProxyEventV2, EventBridgeEvent, SQSEvent } from 'aws-lambda';
import { isObject, nameable } from '../commands/message';
import { ValidationFailed } from '../errors';

/**
 * What a function was invoked with, recognised once at the edge so that no use case ever sees an envelope:
 * an API Gateway (payload 2.0) request, an EventBridge event (a rule's target), an SQS batch (an event source
 * mapping), a named command (`{command, body, correlation_id?}`, what the commands router invokes with) or, for
 * any other direct invocation (Step Functions, another Lambda), the command's body itself.
 */
export type Inbound =
  | { kind: 'api'; event: APIGatewayProxyEventV2 }
  | { kind: 'eventbridge'; event: EventBridgeEvent<string, unknown> }
  | { kind: 'sqs'; event: SQSEvent }
  | { kind: 'command'; invocation: Record<string, unknown> }
  | { kind: 'direct'; body: unknown };

/**
 * Keys that only an AWS envelope has at its top level (no command body of ours uses one). An object holding one
 * that is none of the envelopes we take (API Gateway v1.0, an ALB, SNS, S3, a malformed EventBridge event) is
 * refused here rather than validated as a body, whose refusal would only confuse its sender.
 */
const ENVELOPE_KEYS = [
  'Records',
  'requestContext',
  'routeKey',
  'httpMethod',
  'detail-type',
  'detail',
  'source',
  'version',
];

export function decodeInbound(event: unknown): Inbound {
  if (!isObject(event)) return { kind: 'direct', body: event };
  if (isApiGatewayV2(event)) return { kind: 'api', event };
  if (isEventBridge(event)) return { kind: 'eventbridge', event };
  if (isSqsBatch(event)) return { kind: 'sqs', event };
  if (ENVELOPE_KEYS.some((key) => key in event)) throw unknownEnvelope(event);
  if (isCommandInvocation(event)) return { kind: 'command', invocation: event };
  return { kind: 'direct', body: event };
}

/**
 * A named command: `command` at the top level, which no body of a route has. Its answer is `{result}` or
 * `{error}` instead of a thrown error (lib/http/api.ts), so that the router tells a refusal from a crash.
 */
export function isCommandInvocation(event: unknown): event is Record<string, unknown> {
  return isObject(event) && 'command' in event && !ENVELOPE_KEYS.some((key) => key in event);
}

/** API Gateway's HTTP API, payload 2.0: `version: "2.0"` and the request under `requestContext.http`. */
export function isApiGatewayV2(event: unknown): event is APIGatewayProxyEventV2 {
  return (
    isObject(event) &&
    event.version === '2.0' &&
    typeof event.routeKey === 'string' &&
    isObject(event.requestContext) &&
    isObject(event.requestContext.http)
  );
}

function isEventBridge(
  event: Record<string, unknown>,
): event is Record<string, unknown> & EventBridgeEvent<string, unknown> {
  return (
    event.version === '0' &&
    typeof event.id === 'string' &&
    typeof event['detail-type'] === 'string' &&
    typeof event.source === 'string' &&
    'detail' in event
  );
}

function isSqsBatch(event: Record<string, unknown>): event is Record<string, unknown> & SQSEvent {
  const records = event.Records;
  return (
    Array.isArray(records) &&
    records.length > 0 &&
    records.every((r) => isObject(r) && r.eventSource === 'aws:sqs' && typeof r.body === 'string')
  );
}

/** Names what was received by its top-level keys only: a value may be anything, personal data included. */
function unknownEnvelope(event: Record<string, unknown>): ValidationFailed {
  const { named, unnamed } = nameable(Object.keys(event));
  const more = unnamed > 0 ? ` and ${unnamed} more` : '';
  return new ValidationFailed([
    {
      field: '',
      issue: `is not an event this service takes (an API Gateway v2.0 request, an EventBridge event, an SQS batch or a command body); its top-level keys: ${named.map((key) => JSON.stringify(key)).join(', ')}${more}`,
    },
  ]);
}
