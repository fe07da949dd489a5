import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueuedMessage, Redelivery } from '../commands/ports';
import { dependencyUnavailable } from './dependency';

/** Holds a message back by changing its visibility timeout (ChangeMessageVisibility), from its receipt handle. */
export class SqsRedelivery implements Redelivery {
  constructor(private readonly client: SQSClient) {}

  async delay(message: QueuedMessage, seconds: number): Promise<void> {
    const url = queueUrl(message.eventSourceARN);
    try {
      await this.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: message.receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
    } catch (error) {
      throw dependencyUnavailable('SQS', `ChangeMessageVisibility on ${url}`, error);
    }
  }
}

/**
 * The URL SQS names a queue by, from the ARN an event source mapping puts on each record:
 * arn:aws:sqs:<region>:<account>:<name> is https://sqs.<region>.amazonaws.com/<account>/<name> (amazonaws.com.cn
 * in the China Regions), the form CloudFormation's Ref gives. A FIFO queue's name keeps its `.fifo`.
 */
export function queueUrl(arn: string): string {
  const match = /^arn:(aws[\w-]*):sqs:([a-z0-9-]+):(\d{12}):([\w-]{1,80}(?:\.fifo)?)$/.exec(arn);
  if (!match) throw new Error(`eventSourceARN ${arn} is not an SQS queue's ARN`);
  const [, partition, region, account, name] = match;
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}
