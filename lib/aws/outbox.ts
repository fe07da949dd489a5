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

/**
 * Outbox entries live in the contracts table, so a writer stores one in the same transaction as its change and
 * the table's stream delivers it like any change. Their keys start with '#' (contract codes are letters and
 * digits, so never collide), and their own shard of the sparse `by_next_check` index orders them by when the
 * sweep takes them; reconcile reads only its own shards. IAM lets the publish role touch these keys alone.
 */
export const OUTBOX_KEY_PREFIX = '#outbox#';
const OUTBOX_SHARD = 'outbox';

/** By type and id: event ids are unique within a kind of event (a contract's, a repayment's), not across kinds. */
const keyOf = (event: OutboxEvent) => ({
  out_contract_code: `${OUTBOX_KEY_PREFIX}${event.type}#${event.detail.event_id}`,
});

export const isOutboxKey = (key: string | undefined): boolean => key?.startsWith(OUTBOX_KEY_PREFIX) ?? false;

/** The item of an entry, as a writer puts it in its transaction. */
export function outboxItem(entry: OutboxEntry): Record<string, unknown> {
  return {
    ...keyOf(entry.event),
    check_shard: OUTBOX_SHARD,
    next_check_at: entry.next_attempt_at,
    event: entry.event,
    attempts: entry.attempts,
    created_at: entry.created_at,
    ...(entry.last_error ? { last_error: entry.last_error } : {}),
  };
}

/** The entry an item (or a stream image of one, unmarshalled) holds. */
export function outboxEntryOf(item: Record<string, unknown>): OutboxEntry {
  return {
    event: item.event as OutboxEvent,
    attempts: Number(item.attempts ?? 0),
    next_attempt_at: String(item.next_check_at),
    created_at: String(item.created_at),
    ...(typeof item.last_error === 'string' ? { last_error: item.last_error } : {}),
  };
}

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
            Key: keyOf(event),
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
      await this.db.send(new DeleteCommand({ TableName: this.table, Key: keyOf(event) }));
    } catch (cause) {
      throw dependencyUnavailable('DynamoDB', 'DeleteItem (outbox)', cause);
    }
  }

  async postpone(entry: OutboxEntry, at: number, error: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keyOf(entry.event),
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
