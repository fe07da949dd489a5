import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type {
  NotificationEffect,
  RepaymentNotificationRecord,
  RepaymentNotificationStore,
} from '../repayments/ports';
import { dependencyUnavailable } from './dependency';
import { bookingVersion } from './dynamo-repayment-store';

/**
 * A DEDUCTION_PAY's id in the notifications table (the one de-duplication key space of every callback), written
 * in one transaction with what it causes in the repayments table: either all of it commits or none, so a
 * notification is applied at most once and never half-applied.
 */
export class DynamoRepaymentNotificationStore implements RepaymentNotificationStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly notificationsTable: string,
    private readonly repaymentsTable: string,
  ) {}

  async record(
    notification: RepaymentNotificationRecord,
    effect: NotificationEffect,
  ): Promise<'recorded' | 'duplicate' | 'conflict'> {
    const putId = {
      TableName: this.notificationsTable,
      Item: notification,
      ConditionExpression: 'attribute_not_exists(id)',
    };
    const created = (Item: object) => ({
      Put: { TableName: this.repaymentsTable, Item, ConditionExpression: 'attribute_not_exists(pk)' },
    });
    const items = [
      { Put: putId },
      ...(effect.booking
        ? [
            {
              Put: {
                TableName: this.repaymentsTable,
                Item: effect.booking,
                ...bookingVersion(effect.booking),
              },
            },
          ]
        : []),
      ...(effect.trade ? [created(effect.trade)] : []),
      ...(effect.unhandled ? [created(effect.unhandled)] : []),
    ];
    try {
      if (items.length === 1) await this.db.send(new PutCommand(putId));
      else await this.db.send(new TransactWriteCommand({ TransactItems: items }));
      return 'recorded';
    } catch (error) {
      const refused = refusal(error);
      if (refused) return refused;
      throw dependencyUnavailable('DynamoDB', items.length === 1 ? 'PutItem' : 'TransactWriteItems', error);
    }
  }
}

/**
 * What a refused write means: the id is recorded already (`duplicate`), or something it writes moved or is
 * being written at the same moment (`conflict`: two deliveries of one notification meet as TransactionConflict,
 * which is a retry at once, not a store failure to answer 500 for). `undefined`: a real failure.
 */
function refusal(error: unknown): 'duplicate' | 'conflict' | undefined {
  if (error instanceof TransactionCanceledException) {
    const codes = (error.CancellationReasons ?? []).map((r) => r.Code);
    if (codes[0] === 'ConditionalCheckFailed') return 'duplicate';
    if (codes.includes('ConditionalCheckFailed') || codes.includes('TransactionConflict')) return 'conflict';
    return undefined;
  }
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'ConditionalCheckFailedException') return 'duplicate';
  if (error.name === 'TransactionConflictException') return 'conflict';
  return undefined;
}
