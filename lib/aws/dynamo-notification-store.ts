import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { ContractRecord } from '../contracts/model';
import type { NotificationRecord, NotificationStore } from '../contracts/ports';
import { dependencyUnavailable } from './dependency';
import { versionCondition } from './dynamo-contract-store';

/**
 * Notification ids in their own table, written in one transaction with the contract change they cause:
 * either both commit or neither, so a notification is applied at most once and never half-applied.
 */
export class DynamoNotificationStore implements NotificationStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly notificationsTable: string,
    private readonly contractsTable: string,
  ) {}

  async record(
    notification: NotificationRecord,
    next?: ContractRecord,
  ): Promise<'recorded' | 'duplicate' | 'conflict'> {
    const putNotification = {
      TableName: this.notificationsTable,
      Item: notification,
      ConditionExpression: 'attribute_not_exists(id)',
    };
    try {
      if (!next) {
        await this.db.send(new PutCommand(putNotification));
        return 'recorded';
      }
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: putNotification },
            {
              Put: {
                TableName: this.contractsTable,
                Item: next,
                ...versionCondition(next),
              },
            },
          ],
        }),
      );
      return 'recorded';
    } catch (error) {
      const reasons = conditionFailures(error);
      if (reasons?.[0]) return 'duplicate';
      if (reasons?.[1]) return 'conflict';
      throw dependencyUnavailable('DynamoDB', next ? 'TransactWriteItems' : 'PutItem', error);
    }
  }
}

/** Which items' conditions failed; `undefined` when the error is not a condition failure. */
function conditionFailures(error: unknown): boolean[] | undefined {
  if (error instanceof TransactionCanceledException) {
    return (error.CancellationReasons ?? []).map((r) => r.Code === 'ConditionalCheckFailed');
  }
  if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return [true];
  return undefined;
}
