/**
 * The command queue's SQS API on loopback (`SQS_PORT`), as much of it as the commands router calls:
 * `ChangeMessageVisibility` (JSON 1.0, `X-Amz-Target: AmazonSQS.ChangeMessageVisibility`, what
 * `@aws-sdk/client-sqs` sends), reached through `AWS_ENDPOINT_URL_SQS`. There is no queue locally (the router is
 * handed the batches an event source mapping would deliver), so each change is only checked and recorded, for
 * tests and `npm start` to see when a message would have come back. A fault makes the next calls answer 500, as
 * SQS down would.
 */
import { createServer } from 'node:http';

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

const TARGET = 'AmazonSQS.';
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

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(value));
      };
      const target = String(req.headers['x-amz-target'] ?? '');
      try {
        if (faults > 0) {
          faults--;
          throw new SqsError(500, 'InternalError', 'injected fault');
        }
        if (target !== `${TARGET}ChangeMessageVisibility`) {
          throw new SqsError(400, 'UnsupportedOperation', `${target || 'no operation'} is not run locally`);
        }
        const accepted = change(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
        changes.push(accepted);
        log(`${accepted.queueUrl.split('/').at(-1)}: visible again in ${accepted.visibilityTimeout} s`);
        reply(200, {});
      } catch (error) {
        const e =
          error instanceof SqsError ? error : new SqsError(400, 'InvalidParameterValue', String(error));
        reply(e.status, { __type: `com.amazonaws.sqs#${e.type}`, message: e.message });
      }
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${host}:${port}`,
    changes: () => [...changes],
    injectFault(count) {
      faults = count;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
