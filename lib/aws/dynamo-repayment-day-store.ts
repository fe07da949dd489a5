import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DayRunRecord } from '../repayments/day-model';
import { bookingKey } from '../repayments/model';
import type { DuePage, RepaymentDayStore } from '../repayments/ports';
import { dependencyUnavailable } from './dependency';

/**
 * The repayment-day job's view of the repayments table: the sparse by_due index (`due_shard` =
 * `<date>#<shard>`, sorted by out_record_id; infra/aws/tables.yml), queried one shard at a time and never
 * scanned, and the run items (`RUN#<date>#<run_id>`) whose stream records announce each run.
 */
export class DynamoRepaymentDayStore implements RepaymentDayStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async listDue(date: string, shard: number, after: string | undefined, limit: number): Promise<DuePage> {
    const dueShard = `${date}#${shard}`;
    try {
      const { Items, LastEvaluatedKey } = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'by_due',
          KeyConditionExpression: 'due_shard = :shard',
          ExpressionAttributeValues: { ':shard': dueShard },
          ProjectionExpression: 'out_record_id',
          Limit: limit,
          // The cursor need not still be in the index (a deducted booking leaves it): DynamoDB continues after the key.
          ...(after === undefined
            ? {}
            : { ExclusiveStartKey: { due_shard: dueShard, out_record_id: after, pk: bookingKey(after) } }),
        }),
      );
      const ids = (Items ?? []).map((item) => String(item.out_record_id));
      const last = LastEvaluatedKey?.out_record_id;
      return { ids, ...(typeof last === 'string' ? { last } : {}) };
    } catch (error) {
      throw dependencyUnavailable('DynamoDB', `Query by_due ${dueShard}`, error);
    }
  }

  async countDue(date: string, shard: number): Promise<number> {
    const dueShard = `${date}#${shard}`;
    let count = 0;
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.db.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: 'by_due',
            KeyConditionExpression: 'due_shard = :shard',
            ExpressionAttributeValues: { ':shard': dueShard },
            Select: 'COUNT',
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        count += page.Count ?? 0;
        start = page.LastEvaluatedKey;
      } while (start);
      return count;
    } catch (error) {
      throw dependencyUnavailable('DynamoDB', `Query by_due ${dueShard} (count)`, error);
    }
  }

  async recordRun(run: DayRunRecord): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({ TableName: this.table, Item: run, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw dependencyUnavailable('DynamoDB', `PutItem ${run.pk}`, error);
    }
  }
}
