import {
  BatchProcessor,
  EventType,
  processPartialResponse,
  SqsFifoPartialProcessorAsync,
} from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { MessageLabels } from '../lib/commands/message';
import type { RunCommandDeps } from '../lib/commands/ports';
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
 * message group only.
 */
export function makeHandler(wiring: Wiring<RunCommandDeps>) {
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
    // Every result is reported, even when the whole batch must come again: no message then counts as an error.
    if (batch.Records.some((record) => record.eventSourceARN.endsWith('.fifo'))) {
      return processPartialResponse(batch, handle, new SqsFifoPartialProcessorAsync(), {
        context,
        skipGroupOnError: true,
        throwOnFullBatchFailure: false,
      });
    }
    return processPartialResponse(batch, handle, new BatchProcessor(EventType.SQS), {
      context,
      throwOnFullBatchFailure: false,
    });
  }

  // A message body may hold a presign's plaintext name and ID number: the event is never logged.
  return lambda(main, wiring, { logEvent: false });
}

/** One message; throws to leave it on the queue. Records run side by side, so each log line names its own. */
async function taken(deps: RunCommandDeps, record: SQSRecord): Promise<void> {
  const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
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
