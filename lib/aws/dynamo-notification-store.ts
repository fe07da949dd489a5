import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { ContractRecord } from '../contracts/model';
import type { NotificationRecord, NotificationStore } from '../contracts/ports';
import { defaultSchedule, queuedItem, type Schedule } from './contract-queue';
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
    /** Where the contract written with a notification goes in reconcile's queue, as for every contract write. */
    private readonly schedule: Schedule = defaultSchedule,
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
                Item: queuedItem(next, this.schedule),
                ...versionCondition(next),
              },
            },
          ],
        }),
      );
      return 'recorded';
    } catch (error) {
      const refused = refusal(error);
      if (refused) return refused;
      throw dependencyUnavailable('DynamoDB', next ? 'TransactWriteItems' : 'PutItem', error);
    }
  }
}

/**
 * What a refused write means: the id is already recorded (`duplicate`), or the contract moved or is being
 * moved under us (`conflict`: re-read and try again). DynamoDB cancels a transaction that meets another one
 * in flight on the same item (`TransactionConflict`), e.g. two deliveries of one notification at once: that
 * is a conflict to retry at once, not a store failure to answer 500 for. `undefined`: a real failure.
 */
function refusal(error: unknown): 'duplicate' | 'conflict' | undefined {
  if (error instanceof TransactionCanceledException) {
    const codes = (error.CancellationReasons ?? []).map((r) => r.Code);
    if (codes[0] === 'ConditionalCheckFailed') return 'duplicate';
    if (codes[1] === 'ConditionalCheckFailed' || codes.includes('TransactionConflict')) return 'conflict';
    return undefined;
  }
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'ConditionalCheckFailedException') return 'duplicate';
  if (error.name === 'TransactionConflictException') return 'conflict';
  return undefined;
}
