import type { EventBridgeEvent } from 'aws-lambda';
import { ValidationFailed } from '../errors';
import { logger } from '../observability';

/** A command taken from an EventBridge event: its `detail-type`, and its `detail` with `correlation_id` lifted out. */
export interface EventCommand<C extends string> {
  command: C;
  /** The HTTP route's body plus the route's path parameters (`out_contract_code`, `out_record_id`). */
  fields: Record<string, unknown>;
  correlationId?: string;
}

/** Caller-chosen, echoed on the outcome: short and printable, so it is safe in a log line and an event. */
const CORRELATION_ID = /^[0-9A-Za-z._:-]{1,128}$/;

/**
 * The command an EventBridge event carries, when this function owns it (`owned`: the `detail-type`s it takes).
 * The event's `id`, the command and the correlation id go on every later log line of the invocation.
 */
export function eventCommand<C extends string>(
  event: EventBridgeEvent<string, unknown>,
  owned: readonly C[],
): EventCommand<C> {
  const command = owned.find((name) => name === event['detail-type']);
  // The detail-type the caller sent is not echoed: only what it may be.
  if (!command) {
    throw new ValidationFailed([
      { field: 'detail-type', issue: `is not a command of this function; it takes ${owned.join(', ')}` },
    ]);
  }
  const { detail } = event;
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    throw new ValidationFailed([{ field: 'detail', issue: 'must be a JSON object' }]);
  }
  const { correlation_id: correlationId, ...fields } = detail as Record<string, unknown>;
  if (
    correlationId !== undefined &&
    (typeof correlationId !== 'string' || !CORRELATION_ID.test(correlationId))
  ) {
    throw new ValidationFailed([
      { field: '/correlation_id', issue: 'must be 1 to 128 letters, digits, ".", "_", ":" or "-"' },
    ]);
  }
  logger.appendKeys({
    command,
    event_id: event.id,
    ...(correlationId ? { correlation_id: correlationId } : {}),
  });
  return { command, fields, ...(correlationId ? { correlationId } : {}) };
}

/** Refuses an event shape a function does not take, naming the ones it does. */
export function notTaken(what: string, takes: string): ValidationFailed {
  return new ValidationFailed([
    { field: '', issue: `${what} is not taken by this function; it takes ${takes}` },
  ]);
}
