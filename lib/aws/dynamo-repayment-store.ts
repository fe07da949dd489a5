import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type BookingRecord, bookingKey, type TradeClaim, tradeKey } from '../repayments/model';
import type { BookingClaim, RepaymentStore } from '../repayments/ports';
import { dependencyUnavailable } from './dependency';

/**
 * Bookings and trade claims in the repayments table, keyed by `pk` (lib/repayments/model.ts); the by_poll index
 * finds the bookings whose next check is due (infra/aws/tables.yml).
 */
export class DynamoRepaymentStore implements RepaymentStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async claim(record: BookingRecord): Promise<BookingClaim> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: record,
          ConditionExpression: 'attribute_not_exists(pk)',
          // One round trip tells us who holds the id when the claim fails.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item) {
        return { claimed: false, existing: unmarshall(error.Item) as BookingRecord };
      }
      throw dependencyUnavailable('DynamoDB', 'PutItem', error);
    }
  }

  get(outRecordId: string): Promise<BookingRecord | undefined> {
    return this.read<BookingRecord>(bookingKey(outRecordId));
  }

  getTrade(outTradeNo: string): Promise<TradeClaim | undefined> {
    return this.read<TradeClaim>(tradeKey(outTradeNo));
  }

  async save(next: BookingRecord): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({ TableName: this.table, Item: next, ...bookingVersion(next) }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw dependencyUnavailable('DynamoDB', 'PutItem', error);
    }
  }

  async startOrder(next: BookingRecord, trade: TradeClaim): Promise<'started' | 'trade_used' | 'conflict'> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.table, Item: trade, ConditionExpression: 'attribute_not_exists(pk)' } },
            { Put: { TableName: this.table, Item: next, ...bookingVersion(next) } },
          ],
        }),
      );
      return 'started';
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const [claim, booking] = (error.CancellationReasons ?? []).map((r) => r.Code);
        if (claim === 'ConditionalCheckFailed') return 'trade_used';
        if (
          booking === 'ConditionalCheckFailed' ||
          claim === 'TransactionConflict' ||
          booking === 'TransactionConflict'
        ) {
          return 'conflict';
        }
      }
      throw dependencyUnavailable('DynamoDB', 'TransactWriteItems', error);
    }
  }

  async listDue(shard: number, dueBy: string, limit: number): Promise<string[]> {
    try {
      const { Items } = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'by_poll',
          KeyConditionExpression: 'poll_shard = :shard AND poll_at <= :due',
          ExpressionAttributeValues: { ':shard': String(shard), ':due': dueBy },
          Limit: limit,
        }),
      );
      return (Items ?? []).map((item) => String(item.pk).slice(bookingKey('').length));
    } catch (error) {
      throw dependencyUnavailable('DynamoDB', 'Query by_poll', error);
    }
  }

  private async read<T>(pk: string): Promise<T | undefined> {
    try {
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.table, Key: { pk }, ConsistentRead: true }),
      );
      return Item as T | undefined;
    } catch (error) {
      throw dependencyUnavailable('DynamoDB', 'GetItem', error);
    }
  }
}

/** Optimistic concurrency: a whole-booking write only lands on the version it was computed from. */
export function bookingVersion(next: BookingRecord) {
  return next.version === 1
    ? { ConditionExpression: 'attribute_not_exists(pk)' }
    : {
        ConditionExpression: '#version = :previous',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':previous': next.version - 1 },
      };
}
