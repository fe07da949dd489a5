import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Outbox, OutboxEntry, OutboxEvent } from '../contracts/ports';
import { QUEUE_INDEX } from './contract-queue';
import { dependencyUnavailable } from './dependency';
import { OUTBOX_SHARD, outboxEntryOf, outboxKey } from './outbox';

/** The outbox entries in the contracts table (their layout: lib/aws/outbox.ts). */
export class DynamoOutbox implements Outbox {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async keep(events: OutboxEvent[], error: string, now: number, at: number): Promise<void> {
    try {
      // One entry per event, however many times its publish fails: the first failure creates it, later ones
      // count and push it back. The event itself is what the stream image held, so it is the same every time.
      for (const event of events) {
        await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: outboxKey(event),
            UpdateExpression:
              'SET #event = if_not_exists(#event, :event), created_at = if_not_exists(created_at, :now), ' +
              'check_shard = :shard, next_check_at = :at, last_error = :error ADD attempts :one',
            ExpressionAttributeNames: { '#event': 'event' },
            ExpressionAttributeValues: {
              ':event': event,
              ':now': new Date(now).toISOString(),
              ':shard': OUTBOX_SHARD,
              ':at': new Date(at).toISOString(),
              ':error': error,
              ':one': 1,
            },
          }),
        );
      }
    } catch (cause) {
      throw dependencyUnavailable('DynamoDB', 'UpdateItem (outbox)', cause);
    }
  }

  async due(now: string, limit: number): Promise<OutboxEntry[]> {
    try {
      const { Items } = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: QUEUE_INDEX,
          KeyConditionExpression: 'check_shard = :shard AND next_check_at <= :now',
          ExpressionAttributeValues: { ':shard': OUTBOX_SHARD, ':now': now },
          Limit: limit,
        }),
      );
      return (Items ?? []).map(outboxEntryOf);
    } catch (cause) {
      throw dependencyUnavailable('DynamoDB', `Query ${QUEUE_INDEX} (outbox)`, cause);
    }
  }

  async remove(event: OutboxEvent): Promise<void> {
    try {
      await this.db.send(new DeleteCommand({ TableName: this.table, Key: outboxKey(event) }));
    } catch (cause) {
      throw dependencyUnavailable('DynamoDB', 'DeleteItem (outbox)', cause);
    }
  }

  async postpone(entry: OutboxEntry, at: number, error: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: outboxKey(entry.event),
          UpdateExpression: 'SET next_check_at = :at, last_error = :error ADD attempts :one',
          // Published and removed meanwhile (another sweep, the stream): nothing to bring back.
          ConditionExpression: 'attribute_exists(out_contract_code)',
          ExpressionAttributeValues: { ':at': new Date(at).toISOString(), ':error': error, ':one': 1 },
        }),
      );
    } catch (cause) {
      if (cause instanceof ConditionalCheckFailedException) return;
      throw dependencyUnavailable('DynamoDB', 'UpdateItem (outbox)', cause);
    }
  }
}
