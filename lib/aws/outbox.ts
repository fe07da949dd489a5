import type { OutboxEntry, OutboxEvent } from '../contracts/ports';

/**
 * Outbox entries live in the contracts table, so a writer stores one in the same transaction as its change and
 * the table's stream delivers it like any change. Their keys start with '#' (contract codes are letters and
 * digits, so never collide), and their own shard of the sparse `by_next_check` index orders them by when the
 * sweep takes them; reconcile reads only its own shards. IAM lets the publish role touch these keys alone.
 * This module holds their layout and no SDK client, so that publish reads stream images of them without loading
 * DynamoDB's (lib/aws/dynamo-outbox.ts reads and writes them).
 */
export const OUTBOX_KEY_PREFIX = '#outbox#';
export const OUTBOX_SHARD = 'outbox';

/** By type and id: event ids are unique within a kind of event (a contract's, a repayment's), not across kinds. */
export const outboxKey = (event: OutboxEvent) => ({
  out_contract_code: `${OUTBOX_KEY_PREFIX}${event.type}#${event.detail.event_id}`,
});

export const isOutboxKey = (key: string | undefined): boolean => key?.startsWith(OUTBOX_KEY_PREFIX) ?? false;

/** The item of an entry, as a writer puts it in its transaction. */
export function outboxItem(entry: OutboxEntry): Record<string, unknown> {
  return {
    ...outboxKey(entry.event),
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
