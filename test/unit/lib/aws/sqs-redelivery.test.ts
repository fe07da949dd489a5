import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { queueUrl, SqsRedelivery } from '../../../../lib/aws/sqs-redelivery';
import { DependencyUnavailable } from '../../../../lib/errors';

describe('queueUrl', () => {
  it('is the URL CloudFormation gives the queue, FIFO and China Regions included', () => {
    assert.equal(
      queueUrl('arn:aws:sqs:ap-southeast-1:123456789012:svc-prod-commands'),
      'https://sqs.ap-southeast-1.amazonaws.com/123456789012/svc-prod-commands',
    );
    assert.equal(
      queueUrl('arn:aws:sqs:ap-southeast-1:123456789012:svc-prod-commands.fifo'),
      'https://sqs.ap-southeast-1.amazonaws.com/123456789012/svc-prod-commands.fifo',
    );
    assert.equal(
      queueUrl('arn:aws-cn:sqs:cn-north-1:123456789012:commands'),
      'https://sqs.cn-north-1.amazonaws.com.cn/123456789012/commands',
    );
  });

  it('refuses what is not a queue ARN, naming it', () => {
    for (const arn of [
      '',
      'arn:aws:sns:ap-southeast-1:123456789012:topic',
      'arn:aws:sqs:ap-southeast-1:12:q',
    ]) {
      assert.throws(() => queueUrl(arn), { message: `eventSourceARN ${arn} is not an SQS queue's ARN` });
    }
  });
});

describe('SqsRedelivery', () => {
  const client = new SQSClient({ region: 'ap-southeast-1' });
  const sqs = mockClient(client);
  const redelivery = new SqsRedelivery(client);
  const message = {
    eventSourceARN: 'arn:aws:sqs:ap-southeast-1:123456789012:commands',
    receiptHandle: 'AQEBrh',
  };

  beforeEach(() => sqs.reset());

  it("sets the message's visibility timeout by its receipt handle", async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    await redelivery.delay(message, 15);
    assert.deepEqual(
      sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input),
      [
        {
          QueueUrl: 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/commands',
          ReceiptHandle: 'AQEBrh',
          VisibilityTimeout: 15,
        },
      ],
    );
  });

  it("a failure is SQS unavailable, naming the operation and the SDK's error", async () => {
    sqs
      .on(ChangeMessageVisibilityCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await assert.rejects(redelivery.delay(message, 15), (error: unknown) => {
      assert.ok(error instanceof DependencyUnavailable);
      assert.match(
        error.message,
        /ChangeMessageVisibility on https:\/\/sqs\.ap-southeast-1\.amazonaws\.com\/123456789012\/commands failed: ThrottlingException: Rate exceeded/,
      );
      return true;
    });
  });
});
