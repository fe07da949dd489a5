import type { EventBridgeEvent } from 'aws-lambda';
import { CORRELATION_ID, CORRELATION_ID_RULE, isObject } from '../commands/message';
import { type FieldIssue, type ServiceError, ValidationFailed } from '../errors';
import { logger } from '../observability';
import { UNAVAILABLE_MESSAGES } from './errors';

/**
 * A command taken from an EventBridge event (its `detail-type`, its `detail` with `correlation_id` lifted out) or
 * from a named command invocation (`{command, body, correlation_id?}`).
 */
export interface EventCommand<C extends string> {
  command: C;
  /** The HTTP route's body plus the route's path parameters (`out_contract_code`, `out_record_id`). */
  fields: Record<string, unknown>;
  correlationId?: string;
}

/**
 * The command an EventBridge event carries, when this function owns it (`owned`: the `detail-type`s it takes).
 * The event's `id`, the command and the correlation id go on every later log line of the invocation.
 */
export function eventCommand<C extends string>(
  event: EventBridgeEvent<string, unknown>,
  owned: readonly C[],
): EventCommand<C> {
  const command = ownedCommand(event['detail-type'], owned, 'detail-type');
  const { detail } = event;
  if (!isObject(detail)) throw new ValidationFailed([{ field: 'detail', issue: 'must be a JSON object' }]);
  const { correlation_id: correlationId, ...fields } = detail;
  return tagged(command, fields, checkCorrelationId(correlationId), { event_id: event.id });
}

/**
 * A named command invocation: `{command, body, correlation_id?}`, where `body` is what an EventBridge command's
 * `detail` holds without its correlation id. Nothing else may stand beside them.
 */
export function invokedCommand<C extends string>(
  invocation: Record<string, unknown>,
  owned: readonly C[],
): EventCommand<C> {
  const { command: name, body, correlation_id: correlationId, ...rest } = invocation;
  const stray = Object.keys(rest).map((key) => ({ field: `/${key}`, issue: 'is not a field of a command' }));
  if (stray.length > 0) throw new ValidationFailed(stray);
  const command = ownedCommand(name, owned, '/command');
  if (!isObject(body)) throw new ValidationFailed([{ field: '/body', issue: 'must be a JSON object' }]);
  return tagged(command, body, checkCorrelationId(correlationId), {});
}

/** What a named command answers when the use case refused it: the error's name, a message, the failing fields. */
export interface CommandRefusal {
  error: { name: string; message: string; fields: FieldIssue[] };
}

/**
 * A refusal as the answer of a named command. A 5xx's own message quotes AWS or our keys (see
 * UNAVAILABLE_MESSAGES), so it is replaced by the fixed sentence an API caller gets.
 */
export function commandRefusal(error: ServiceError): CommandRefusal {
  return {
    error: {
      name: error.name,
      message: UNAVAILABLE_MESSAGES[error.code] ?? error.message,
      fields: error instanceof ValidationFailed ? error.errors : [],
    },
  };
}

/** Refuses an event shape a function does not take, naming the ones it does. */
export function notTaken(what: string, takes: string): ValidationFailed {
  return new ValidationFailed([
    { field: '', issue: `${what} is not taken by this function; it takes ${takes}` },
  ]);
}

function ownedCommand<C extends string>(name: unknown, owned: readonly C[], field: string): C {
  const command = owned.find((candidate) => candidate === name);
  // The name the caller sent is not echoed: only what it may be.
  if (!command) {
    throw new ValidationFailed([
      { field, issue: `is not a command of this function; it takes ${owned.join(', ')}` },
    ]);
  }
  return command;
}

function checkCorrelationId(id: unknown): string | undefined {
  if (id !== undefined && (typeof id !== 'string' || !CORRELATION_ID.test(id))) {
    throw new ValidationFailed([{ field: '/correlation_id', issue: CORRELATION_ID_RULE }]);
  }
  return id;
}

function tagged<C extends string>(
  command: C,
  fields: Record<string, unknown>,
  correlationId: string | undefined,
  keys: Record<string, string>,
): EventCommand<C> {
  logger.appendKeys({ command, ...keys, ...(correlationId ? { correlation_id: correlationId } : {}) });
  return { command, fields, ...(correlationId ? { correlationId } : {}) };
}
