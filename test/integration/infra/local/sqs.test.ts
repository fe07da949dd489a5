import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type LocalSqs, startSqs } from '../../../../infra/local/sqs';

// The local SQS endpoint through @aws-sdk/client-sqs, configured as the commands router's (lib/aws/sqs-client.ts):
// what it records, and SQS's own errors for what it refuses.
describe('local SQS', () => {
  let sqs: LocalSqs;
  let client: SQSClient;
  before(async () => {
    sqs = await startSqs();
    client = new SQSClient({
      endpoint: sqs.url,
      region: 'ap-southeast-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      useQueueUrlAsEndpoint: false,
      maxAttempts: 1,
    });
  });
  after(async () => {
    client?.destroy();
    await sqs?.close();
  });

  const QUEUE = 'https://sqs.ap-southeast-1.amazonaws.com/000000000000/commands.fifo';
  const change = (VisibilityTimeout: number) =>
    client.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: QUEUE, ReceiptHandle: 'AQEB1', VisibilityTimeout }),
    );

  it('records each ChangeMessageVisibility, FIFO queues included', async () => {
    await change(15);
    await change(0);
    assert.deepEqual(sqs.changes(), [
      { queueUrl: QUEUE, receiptHandle: 'AQEB1', visibilityTimeout: 15 },
      { queueUrl: QUEUE, receiptHandle: 'AQEB1', visibilityTimeout: 0 },
    ]);
  });

  it("refuses what SQS refuses, with SQS's error names; a fault answers 500", async () => {
    await assert.rejects(change(43_201), { name: 'InvalidParameterValue' });
    await assert.rejects(client.send(new SendMessageCommand({ QueueUrl: QUEUE, MessageBody: '{}' })), {
      name: 'UnsupportedOperation',
    });
    sqs.injectFault(1);
    await assert.rejects(change(15), (error: { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(error.$metadata?.httpStatusCode, 500);
      return true;
    });
    await change(15);
    assert.equal(sqs.changes().length, 3, 'refused calls are not recorded');
  });
});
