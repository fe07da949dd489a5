import { createHash } from 'node:crypto';
import { DependencyUnavailable, type FieldIssue } from '../errors';
import { COMMANDS, type CommandName } from './catalogue';
import { type MessageLabels, parseMessage } from './message';
import { type CommandEvent, failed, succeeded } from './outcome';
import type { CommandAnswer, CommandInvocation, RunCommandDeps } from './ports';

/** One delivery of one queue message. */
export interface CommandDelivery {
  /** SQS's messageId: the same on every delivery of the message. */
  messageId: string;
  body: string;
  /** SQS's ApproximateReceiveCount: 1 on the first delivery. */
  receiveCount: number;
}

/**
 * What became of one delivery: its outcome event was published (`succeeded`, `failed`), or it is to be delivered
 * again (`retry`, with the refusal's name) and nothing was published.
 */
export type CommandRun =
  | { status: 'succeeded' | 'failed'; event: CommandEvent }
  | { status: 'retry'; error: string; labels: MessageLabels };

/**
 * Takes one command off the queue: parses the message, invokes the function that owns the command, and
 * publishes its one outcome, unless the refusal is one a later delivery may turn into a success and this was
 * not the last receive. A message that cannot be read is final at once. The outcome's event id comes from the
 * message, so a redelivery (the identical command, which replays) yields the same id.
 */
export async function runCommand(deps: RunCommandDeps, delivery: CommandDelivery): Promise<CommandRun> {
  const parsed = parseMessage(delivery.body);
  const eventId = parsed.labels.eventId ?? delivery.messageId;
  const now = () => new Date(deps.clock()).toISOString();
  const publish = async (status: 'succeeded' | 'failed', event: CommandEvent): Promise<CommandRun> => {
    await deps.publisher.publish([event]);
    return { status, event };
  };
  if (!parsed.ok) {
    return publish(
      'failed',
      failed(parsed.labels, eventId, { name: 'ValidationFailed', fields: parsed.issues }, now()),
    );
  }
  const { message, labels } = parsed;
  const command: CommandName = message.command;
  const invocation: CommandInvocation = {
    command,
    body: command === 'DeductRequested' ? withTradeNo(message.body, eventId) : message.body,
    ...(message.correlationId ? { correlation_id: message.correlationId } : {}),
  };
  const answer = await answered(deps, invocation);
  if ('result' in answer) {
    return publish('succeeded', succeeded({ ...labels, command }, eventId, answer.result, now()));
  }
  const last = delivery.receiveCount >= deps.maxReceiveCount;
  if (!last && isRetryable(command, answer.error.name))
    return { status: 'retry', error: answer.error.name, labels };
  const { name, fields } = answer.error;
  return publish('failed', failed(labels, eventId, { name, fields: fields.map(inBody) }, now()));
}

/** The owning function names a field of the body it was given; the outcome names it within the message. */
function inBody({ field, issue }: FieldIssue): FieldIssue {
  const pointer = field === '' || field.startsWith('/') ? field : `/${field}`;
  return { field: `/body${pointer}`, issue };
}

/**
 * A deduct that names no order gets one named after its message, so every delivery of the message asks for the
 * same order and a redelivery replays it, where a fresh out_trade_no each time would be refused while the first
 * may still succeed. `D` and 31 hex digits of SHA-256 over the message's event id: letters and digits, 32 long,
 * as WeChat Pay requires, and unique as the message is.
 */
export function withTradeNo(body: Record<string, unknown>, eventId: string): Record<string, unknown> {
  if (body.out_trade_no !== undefined) return body;
  const digest = createHash('sha256').update(eventId).digest('hex').slice(0, 31).toUpperCase();
  return { ...body, out_trade_no: `D${digest}` };
}

/** Whether a refusal of `command` may end otherwise when the identical command comes again. */
export function isRetryable(command: CommandName, errorName: string): boolean {
  return (COMMANDS[command].retryable as readonly string[]).includes(errorName);
}

/** The owning function's answer; a function that could not answer is our dependency failing. */
async function answered(deps: RunCommandDeps, invocation: CommandInvocation): Promise<CommandAnswer> {
  const owner = COMMANDS[invocation.command].function;
  try {
    return await deps.invoker.invoke(owner, invocation);
  } catch (error) {
    if (!(error instanceof DependencyUnavailable)) throw error;
    return { error: { name: error.name, message: error.message, fields: [] } };
  }
}
