import {
  BatchProcessor,
  EventType,
  processPartialResponse,
  SqsFifoPartialProcessorAsync,
} from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { redeliveryDelays } from '../lib/commands/backoff';
import type { MessageLabels } from '../lib/commands/message';
import type { CommandRouterDeps, RunCommandDeps } from '../lib/commands/ports';
import { type CommandRun, runCommand } from '../lib/commands/run';
import { commandDeps } from '../lib/config/command-deps';
import { processRuntime, type Runtime } from '../lib/config/runtime';
import { notTaken } from '../lib/http/command';
import { decodeInbound } from '../lib/http/inbound';
import { lambda, type Wiring } from '../lib/http/lambda';
import { recordMetric } from '../lib/metrics';
import { logger } from '../lib/observability';

/**
 * The commands router: the command queue's event source (infra/aws/commands.yml). Each message is one command
 * (`{"command", "body", "correlation_id"?}`), invoked on the function that owns it, and ends in one outcome event
 * on the bus, `CommandSucceeded` or `CommandFailed` (lib/commands/run.ts). A message whose refusal a later
 * delivery may fix is reported in `batchItemFailures` (ReportBatchItemFailures), so SQS delivers it again and
 * only it; the rest of the batch is deleted. From a FIFO queue, a failed message holds back the later ones of its
 * message group only. Each reported message is made visible again after a delay by its receive count
 * (lib/commands/backoff.ts) instead of the queue's 240 s, so a refusal that clears in seconds is retried in
 * seconds.
 */
export function makeHandler(wiring: Wiring<CommandRouterDeps>) {
  async function main(event: unknown, context: Context): Promise<SQSBatchResponse> {
    const inbound = decodeInbound(event);
    if (inbound.kind !== 'sqs') {
      throw notTaken(
        inbound.kind === 'api' ? 'an API Gateway request' : 'this event',
        'an SQS batch of commands',
      );
    }
    const deps = await wiring.load();
    const handle = (record: SQSRecord) => taken(deps, record);
    const batch: SQSEvent = inbound.event;
    const fifo = batch.Records.some((record) => record.eventSourceARN.endsWith('.fifo'));
    // Every result is reported, even when the whole batch must come again: no message then counts as an error.
    const response = fifo
      ? await processPartialResponse(batch, handle, new SqsFifoPartialProcessorAsync(), {
          context,
          skipGroupOnError: true,
          throwOnFullBatchFailure: false,
        })
      : await processPartialResponse(batch, handle, new BatchProcessor(EventType.SQS), {
          context,
          throwOnFullBatchFailure: false,
        });
    await holdBack(deps, batch.Records, response, fifo);
    return response;
  }

  // A message body may hold a presign's plaintext name and ID number: the event is never logged.
  return lambda(main, wiring, { logEvent: false });
}

/** One message; throws to leave it on the queue. Records run side by side, so each log line names its own. */
async function taken(deps: RunCommandDeps, record: SQSRecord): Promise<void> {
  const receiveCount = receiveCountOf(record);
  let run: CommandRun;
  try {
    run = await runCommand(deps, { messageId: record.messageId, body: record.body, receiveCount });
  } catch (error) {
    // The outcome could not be published (or the router failed): the identical command comes again and replays.
    recordMetric('CommandRetried');
    logger.error('command left on the queue: its outcome was not published', {
      message_id: record.messageId,
      receive_count: receiveCount,
      error,
    });
    throw error;
  }
  if (run.status === 'retry') {
    recordMetric('CommandRetried');
    logger.warn('command left on the queue for another delivery', {
      ...logged(record, run.labels),
      receive_count: receiveCount,
      error: run.error,
    });
    throw new Error(`${run.error}: delivered again`);
  }
  recordMetric(run.status === 'succeeded' ? 'CommandSucceeded' : 'CommandFailed');
  const { detail } = run.event;
  logger.info(run.status === 'succeeded' ? 'command succeeded' : 'command failed', {
    message_id: record.messageId,
    event_id: detail.event_id,
    command: detail.command,
    correlation_id: detail.correlation_id,
    out_contract_code: detail.out_contract_code,
    out_record_id: detail.out_record_id,
    state: detail.result?.state,
    error: detail.error?.name,
  });
}

/**
 * Sets the visibility of every reported message by its delay. The router's own failures (an outcome not
 * published) are held back like refusals: the redelivery replays, the bus they wait for is a dependency like any
 * other, and the receives before the dead-letter queue span the same quarter of an hour. Best effort: a change
 * that fails (SQS throttling or unreachable) leaves that message to the queue's own timeout, and the answer,
 * which alone decides what SQS deletes, is the same either way.
 */
async function holdBack(
  deps: CommandRouterDeps,
  records: SQSRecord[],
  response: SQSBatchResponse,
  fifo: boolean,
): Promise<void> {
  const reported = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const held = records.filter((record) => reported.has(record.messageId));
  const delays = redeliveryDelays(
    held.map((record) => ({
      messageId: record.messageId,
      receiveCount: receiveCountOf(record),
      // Only a FIFO group holds its later messages back; a standard queue's group id (fair queues) does not.
      ...(fifo && record.attributes.MessageGroupId ? { groupId: record.attributes.MessageGroupId } : {}),
    })),
    deps.maxReceiveCount,
    Math.random,
  );
  await Promise.all(
    held.map(async (record) => {
      const seconds = delays.get(record.messageId);
      if (seconds === undefined) return;
      try {
        await deps.redelivery.delay(record, seconds);
      } catch (error) {
        logger.warn(
          "command's redelivery not brought forward: it comes back after the queue's visibility timeout",
          {
            message_id: record.messageId,
            delay_s: seconds,
            error,
          },
        );
      }
    }),
  );
}

const receiveCountOf = (record: SQSRecord) => Number(record.attributes.ApproximateReceiveCount) || 1;

/** The labels a message passed its rules with: never a field of its body but its natural keys. */
function logged(record: SQSRecord, labels: MessageLabels): Record<string, unknown> {
  return {
    message_id: record.messageId,
    command: labels.command,
    correlation_id: labels.correlationId,
    ...labels.keys,
  };
}

/** This function on a given runtime: the local stack passes one whose clock and publisher it owns. */
export const handlerFor = (runtime: Runtime) => makeHandler(commandDeps(runtime));
export const handler = handlerFor(processRuntime);
