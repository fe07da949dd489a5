import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { PlatformCertificateSet, PlatformKeyStore } from '../contracts/ports';
import { dependencyUnavailable } from './dependency';

/**
 * The reserved key of the one item. WeChat Pay notification ids (the table's other items) are UUIDs, never
 * starting with '#'. infra/aws/iam.yml names this value in its `dynamodb:LeadingKeys` conditions.
 */
export const PLATFORM_CERTIFICATES_ID = '#wechatpay-platform-certificates';

/**
 * The verified platform certificates as one item of the notifications table.
 *
 * Why there and not in an SSM parameter: the notify function, which must store what an on-demand refresh
 * downloads, already writes that table, and the local stack and tests run it on DynamoDB Local, whereas SSM has
 * no stand-in here. A few certificates are ~1.3 KB each, far under the 400 KB item limit (a standard SSM
 * parameter holds 4 KB). Least privilege still holds: every other role reaches this item only through IAM
 * conditions on `dynamodb:LeadingKeys` = this id. The item has no `expires_at_epoch`, so TTL never removes it.
 */
export class DynamoPlatformKeyStore implements PlatformKeyStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async load(): Promise<PlatformCertificateSet | undefined> {
    try {
      const { Item } = await this.db.send(
        new GetCommand({
          TableName: this.table,
          Key: { id: PLATFORM_CERTIFICATES_ID },
          ConsistentRead: true,
        }),
      );
      if (!Item) return undefined;
      return { certificates: Item.certificates, downloaded_at: Item.downloaded_at };
    } catch (error) {
      throw dependencyUnavailable('DynamoDB', 'GetItem', error);
    }
  }

  async save(set: PlatformCertificateSet): Promise<'saved' | 'stale'> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { id: PLATFORM_CERTIFICATES_ID, ...set },
          // A slow refresh must not overwrite what a later one stored.
          ConditionExpression: 'attribute_not_exists(id) OR downloaded_at <= :downloaded_at',
          ExpressionAttributeValues: { ':downloaded_at': set.downloaded_at },
        }),
      );
      return 'saved';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'stale';
      throw dependencyUnavailable('DynamoDB', 'PutItem', error);
    }
  }
}
