import type { EventPublisher } from '../contracts/ports';
import type { FieldIssue } from '../errors';
import type { Clock } from '../wechatpay/clock';
import type { CommandFunction, CommandName } from './catalogue';
import type { CommandEvent } from './outcome';

/** What the owning function is invoked with: a named command, which it answers rather than throws. */
export interface CommandInvocation {
  command: CommandName;
  body: Record<string, unknown>;
  correlation_id?: string;
}

/** The owning function's answer: its result, or the refusal of the service's error (lib/http/command.ts). */
export type CommandAnswer =
  | { result: Record<string, unknown> }
  | { error: { name: string; message: string; fields: FieldIssue[] } };

export interface CommandInvoker {
  /**
   * Invokes `fn` and waits for its answer. Throws `DependencyUnavailable` when it could not be invoked or ended
   * without an answer (throttled, timed out, crashed): the identical command may be delivered again.
   */
  invoke(fn: CommandFunction, invocation: CommandInvocation): Promise<CommandAnswer>;
}

export interface RunCommandDeps {
  invoker: CommandInvoker;
  /** The bus; throws when the event was not taken (the message is then delivered again). */
  publisher: EventPublisher<CommandEvent>;
  clock: Clock;
  /** The queue's redrive maxReceiveCount: on this receive a retryable refusal is final too. */
  maxReceiveCount: number;
}

/** A message of the command queue as its event source mapping delivers it (an SQS record has both fields). */
export interface QueuedMessage {
  /** The queue's ARN: arn:<partition>:sqs:<region>:<account>:<name>. */
  eventSourceARN: string;
  /** This receive's handle, which any change to the message must name. */
  receiptHandle: string;
}

export interface Redelivery {
  /**
   * Makes a message left on the queue visible again in `seconds` from now (its visibility timeout), in place of
   * the queue's own. Throws when that was not done: the message then comes back after the queue's timeout.
   */
  delay(message: QueuedMessage, seconds: number): Promise<void>;
}

/** The commands router's: what it runs each message with, and how it holds back the ones it leaves on the queue. */
export interface CommandRouterDeps extends RunCommandDeps {
  redelivery: Redelivery;
}
