import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { UnhandledNotification } from '../repayments/model';
import { DEDUCTION_PAY } from '../repayments/notifications';
import type {
  KeptNotificationStore,
  KeptPage,
  KeptSettlement,
  NotificationEffect,
  RepaymentNotificationRecord,
  RepaymentNotificationStore,
} from '../repayments/ports';
import { dependencyUnavailable } from './dependency';
import { bookingVersion } from './dynamo-repayment-store';
import { indexPage } from './index-page';

/**
 * The sparse index of the kept DEDUCTION_PAYs: of the repayments table's items only they carry `event_type`
 * (bookings and trade claims never do), so it holds exactly them, every one kept since the table existed, oldest
 * first. Applying one deletes it, and with it its entry.
 */
const KEPT_INDEX = 'by_kept';

/**
 * A DEDUCTION_PAY's id in the notifications table (the one de-duplication key space of every callback), written
 * in one transaction with what it causes in the repayments table: either all of it commits or none, so a
 * notification is applied at most once and never half-applied. The same holds when an operator applies one
 * that was kept.
 */
export class DynamoRepaymentNotificationStore implements RepaymentNotificationStore, KeptNotificationStore {
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
    const items = [
      { Put: putId },
      ...this.moves(effect),
      ...(effect.unhandled ? [created(this.repaymentsTable, effect.unhandled)] : []),
    ];
    try {
      if (items.length === 1) await this.db.send(new PutCommand(putId));
      else await this.db.send(new TransactWriteCommand({ TransactItems: items }));
      return 'recorded';
    } catch (error) {
      const refused = refusal(error, 1, 'duplicate');
      if (refused) return refused;
      throw dependencyUnavailable('DynamoDB', items.length === 1 ? 'PutItem' : 'TransactWriteItems', error);
    }
  }

  async listKept(limit: number, cursor?: string): Promise<KeptPage> {
    const page = await indexPage(this.db, {
      table: this.repaymentsTable,
      index: KEPT_INDEX,
      key: 'event_type',
      value: DEDUCTION_PAY,
      limit,
      ...(cursor ? { cursor } : {}),
    });
    const notifications = page.items as unknown as UnhandledNotification[];
    return page.cursor ? { notifications, cursor: page.cursor } : { notifications };
  }

  async settle(
    kept: UnhandledNotification,
    settlement: KeptSettlement,
    effect: Omit<NotificationEffect, 'unhandled'>,
  ): Promise<'recorded' | 'gone' | 'conflict'> {
    const items = [
      // Its keeping ends: no longer listed, and a second apply finds it gone.
      {
        Delete: {
          TableName: this.repaymentsTable,
          Key: { pk: kept.pk },
          ConditionExpression: 'attribute_exists(pk)',
        },
      },
      {
        Update: {
          TableName: this.notificationsTable,
          Key: { id: kept.notification_id },
          UpdateExpression: 'SET outcome = :outcome, settled_at = :settled, expires_at_epoch = :expires',
          ConditionExpression: 'outcome = :unhandled',
          ExpressionAttributeValues: {
            ':outcome': settlement.outcome,
            ':settled': settlement.settled_at,
            ':expires': settlement.expires_at_epoch,
            ':unhandled': 'UNHANDLED',
          },
        },
      },
      ...this.moves(effect),
    ];
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
      return 'recorded';
    } catch (error) {
      const refused = refusal(error, 2, 'gone');
      if (refused) return refused;
      throw dependencyUnavailable('DynamoDB', 'TransactWriteItems', error);
    }
  }

  /** The booking written (version-conditioned) and the out_trade_no claimed, with a notification's outcome. */
  private moves(effect: Omit<NotificationEffect, 'unhandled'>) {
    return [
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
      ...(effect.trade ? [created(this.repaymentsTable, effect.trade)] : []),
    ];
  }
}

const created = (TableName: string, Item: object) => ({
  Put: { TableName, Item, ConditionExpression: 'attribute_not_exists(pk)' },
});

/**
 * What a refused write means: one of the notification's own `own` first items refused (`onOwn`: its id is
 * recorded already, or it is no longer kept), or something it writes moved or is being written at the same
 * moment (`conflict`: two deliveries of one notification meet as TransactionConflict, which is a retry at once,
 * not a store failure to answer 500 for). `undefined`: a real failure.
 */
function refusal<T extends 'duplicate' | 'gone'>(
  error: unknown,
  own: number,
  onOwn: T,
): T | 'conflict' | undefined {
  if (error instanceof TransactionCanceledException) {
    const codes = (error.CancellationReasons ?? []).map((r) => r.Code);
    if (codes.slice(0, own).includes('ConditionalCheckFailed')) return onOwn;
    if (codes.includes('ConditionalCheckFailed') || codes.includes('TransactionConflict')) return 'conflict';
    return undefined;
  }
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'ConditionalCheckFailedException') return onOwn;
  if (error.name === 'TransactionConflictException') return 'conflict';
  return undefined;
}
