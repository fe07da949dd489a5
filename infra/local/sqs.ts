/**
 * The command queue's SQS API on loopback (`SQS_PORT`), as much of it as the commands router calls:
 * `ChangeMessageVisibility` (JSON 1.0, `X-Amz-Target: AmazonSQS.ChangeMessageVisibility`, what
 * `@aws-sdk/client-sqs` sends), reached through `AWS_ENDPOINT_URL_SQS`. There is no queue locally (the router is
 * handed the batches an event source mapping would deliver), so each change is only checked and recorded, for
 * tests and `npm start` to see when a message would have come back. A fault makes the next calls answer 500, as
 * SQS down would.
 */
import { serveAwsJson } from './aws-json';

export interface VisibilityChange {
  queueUrl: string;
  receiptHandle: string;
  visibilityTimeout: number;
}

export interface LocalSqs {
  url: string;
  /** Every change accepted so far, in order. */
  changes(): VisibilityChange[];
  /** The next `count` calls answer 500 InternalError. */
  injectFault(count: number): void;
  close(): Promise<void>;
}

// SQS's own bound on a visibility timeout: 12 hours.
const MAX_VISIBILITY_TIMEOUT_S = 43_200;

class SqsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function change(body: Record<string, unknown>): VisibilityChange {
  const { QueueUrl, ReceiptHandle, VisibilityTimeout } = body;
  if (typeof QueueUrl !== 'string' || !/^https?:\/\/[^/]+\/\d{12}\/[\w-]+(\.fifo)?$/.test(QueueUrl)) {
    throw new SqsError(400, 'QueueDoesNotExist', `QueueUrl ${String(QueueUrl)} names no queue`);
  }
  if (typeof ReceiptHandle !== 'string' || ReceiptHandle === '') {
    throw new SqsError(400, 'ReceiptHandleIsInvalid', 'ReceiptHandle is required');
  }
  if (
    typeof VisibilityTimeout !== 'number' ||
    !Number.isInteger(VisibilityTimeout) ||
    VisibilityTimeout < 0 ||
    VisibilityTimeout > MAX_VISIBILITY_TIMEOUT_S
  ) {
    throw new SqsError(
      400,
      'InvalidParameterValue',
      `VisibilityTimeout must be a whole number of seconds from 0 to ${MAX_VISIBILITY_TIMEOUT_S}`,
    );
  }
  return { queueUrl: QueueUrl, receiptHandle: ReceiptHandle, visibilityTimeout: VisibilityTimeout };
}

export async function startSqs(
  options: { host?: string; port?: number; log?: (line: string) => void } = {},
): Promise<LocalSqs> {
  const log = options.log ?? (() => {});
  const changes: VisibilityChange[] = [];
  let faults = 0;

  const endpoint = await serveAwsJson({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    target: 'AmazonSQS',
    answer(operation, body) {
      if (faults > 0) {
        faults--;
        throw new SqsError(500, 'InternalError', 'injected fault');
      }
      if (operation !== 'ChangeMessageVisibility') {
        throw new SqsError(400, 'UnsupportedOperation', `${operation || 'no operation'} is not run locally`);
      }
      const accepted = change(body);
      changes.push(accepted);
      log(`${accepted.queueUrl.split('/').at(-1)}: visible again in ${accepted.visibilityTimeout} s`);
      return {};
    },
    refusal(error) {
      const e = error instanceof SqsError ? error : new SqsError(400, 'InvalidParameterValue', String(error));
      return { status: e.status, type: `com.amazonaws.sqs#${e.type}`, message: e.message };
    },
  });
  return {
    url: endpoint.url,
    changes: () => [...changes],
    injectFault(count) {
      faults = count;
    },
    close: () => endpoint.close(),
  };
}
