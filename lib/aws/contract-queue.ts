import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ContractState } from '../contracts/lifecycle';
import type { ContractRecord } from '../contracts/model';
import { DEFAULT_RECHECK, firstCheckAt, type Requeue } from '../contracts/recheck';
import { dependencyUnavailable } from './dependency';

/**
 * Reconcile's queue inside the contracts table: the sparse index `by_next_check` holds only the records that
 * carry `check_shard` and `next_check_at`, ordered by `next_check_at` within each shard. Four shards spread the
 * index's writes over partitions (every contract write updates it); a run reads the due records of each shard
 * and merges them. A record out of the queue carries neither attribute, so the index never holds it.
 */
export const QUEUE_INDEX = 'by_next_check';
export const QUEUE_SHARDS = ['0', '1', '2', '3'] as const;

/** When reconcile should first look at a record as written (epoch ms), or undefined: never. */
export type Schedule = (
  record: Pick<ContractRecord, 'state' | 'updated_at' | 'expires_at'>,
) => number | undefined;

/** The documented policy, for stores built without configuration (tests, benchmarks, tools). */
export const defaultSchedule: Schedule = (record) => firstCheckAt(record, DEFAULT_RECHECK);

/** The attributes only the queue uses: set anew by every write, never carried over from what was read. */
const QUEUE_FIELDS = ['check_shard', 'next_check_at', 'check_attempts'] as const;

const shardOf = (code: string): string =>
  QUEUE_SHARDS[(createHash('sha256').update(code).digest()[0] ?? 0) % QUEUE_SHARDS.length] as string;

/** A record as read: without the index key, which is the store's, not the domain's. */
export function fromItem(item: Record<string, unknown>): ContractRecord {
  const { check_shard: _shard, ...record } = item;
  return record as unknown as ContractRecord;
}

/** The item a whole-record write puts: the record, placed in the queue by `schedule` (no failed looks). */
export function queuedItem(record: ContractRecord, schedule: Schedule): Record<string, unknown> {
  const item: Record<string, unknown> = { ...record };
  for (const field of QUEUE_FIELDS) delete item[field];
  const at = schedule(record);
  if (at === undefined) return item;
  return {
    ...item,
    check_shard: shardOf(record.out_contract_code),
    next_check_at: new Date(at).toISOString(),
  };
}

/** The same for an update that sets `changes`: the SET values and the REMOVE names of the queue's attributes. */
export function queueUpdate(
  code: string,
  changes: Pick<ContractRecord, 'state' | 'updated_at' | 'expires_at'>,
  schedule: Schedule,
): { set: Record<string, unknown>; remove: string[] } {
  const at = schedule(changes);
  if (at === undefined) return { set: {}, remove: [...QUEUE_FIELDS] };
  return {
    set: { check_shard: shardOf(code), next_check_at: new Date(at).toISOString() },
    remove: ['check_attempts'],
  };
}

export async function listDue(
  db: DynamoDBDocumentClient,
  table: string,
  now: string,
  limit: number,
): Promise<ContractRecord[]> {
  try {
    const pages = await Promise.all(
      QUEUE_SHARDS.map((shard) =>
        db.send(
          new QueryCommand({
            TableName: table,
            IndexName: QUEUE_INDEX,
            KeyConditionExpression: 'check_shard = :shard AND next_check_at <= :now',
            ExpressionAttributeValues: { ':shard': shard, ':now': now },
            Limit: limit,
          }),
        ),
      ),
    );
    return pages
      .flatMap((page) => page.Items ?? [])
      .sort((a, b) => String(a.next_check_at).localeCompare(String(b.next_check_at)))
      .slice(0, limit)
      .map(fromItem);
  } catch (error) {
    throw dependencyUnavailable('DynamoDB', `Query ${QUEUE_INDEX}`, error);
  }
}

export async function requeue(
  db: DynamoDBDocumentClient,
  table: string,
  current: Pick<ContractRecord, 'out_contract_code' | 'version'>,
  next: Requeue,
): Promise<boolean> {
  const code = current.out_contract_code;
  const placed =
    next.at === undefined
      ? { UpdateExpression: `REMOVE ${QUEUE_FIELDS.join(', ')}`, values: {} }
      : {
          UpdateExpression: 'SET check_shard = :shard, next_check_at = :at, check_attempts = :attempts',
          values: {
            ':shard': shardOf(code),
            ':at': new Date(next.at).toISOString(),
            ':attempts': next.attempts,
          },
        };
  try {
    await db.send(
      new UpdateCommand({
        TableName: table,
        Key: { out_contract_code: code },
        UpdateExpression: placed.UpdateExpression,
        ConditionExpression: '#version = :version',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ...placed.values, ':version': current.version },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw dependencyUnavailable('DynamoDB', 'UpdateItem (reconcile queue)', error);
  }
}

/** The states whose records a migration places in the queue, searched through the by_state index. */
const QUEUED_STATES: ContractState[] = ['PRESIGNING', 'PRESIGN_UNKNOWN', 'PRESIGNED', 'SIGNED', 'EXPIRED'];

/** Per call: pages of the by_state index read, and their size, so that one call ends well inside a Lambda's time. */
const MIGRATION_PAGES = 20;
const MIGRATION_PAGE_SIZE = 100;

interface Cursor {
  state: number;
  key?: Record<string, unknown>;
}

/**
 * Finds records without a place in the queue, state by state, and gives them the one `schedule` says: at least
 * `limit` of them unless fewer remain, or what a bounded number of index pages held. A FilterExpression, so
 * records already queued are read but skipped; the cursor resumes where this call stopped.
 */
export async function enqueueUnqueued(
  db: DynamoDBDocumentClient,
  table: string,
  schedule: Schedule,
  limit: number,
  cursor?: string,
): Promise<{ queued: number; cursor?: string }> {
  let at: Cursor | undefined = cursor
    ? JSON.parse(Buffer.from(cursor, 'base64url').toString())
    : { state: 0 };
  let queued = 0;
  try {
    for (let pages = 0; at && queued < limit && pages < MIGRATION_PAGES; pages++) {
      const state = QUEUED_STATES[at.state] as ContractState;
      const page = await db.send(
        new QueryCommand({
          TableName: table,
          IndexName: 'by_state',
          KeyConditionExpression: '#state = :state',
          FilterExpression: 'attribute_not_exists(check_shard)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':state': state },
          Limit: MIGRATION_PAGE_SIZE,
          ...(at.key ? { ExclusiveStartKey: at.key } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        if (await placeUnqueued(db, table, fromItem(item), schedule)) queued++;
      }
      const nextState = at.state + 1;
      at = page.LastEvaluatedKey
        ? { state: at.state, key: page.LastEvaluatedKey }
        : nextState < QUEUED_STATES.length
          ? { state: nextState }
          : undefined;
    }
  } catch (error) {
    throw dependencyUnavailable('DynamoDB', 'reconcile queue migration', error);
  }
  return at ? { queued, cursor: Buffer.from(JSON.stringify(at)).toString('base64url') } : { queued };
}

/** Only if still unqueued and unchanged: a record written meanwhile was placed by its writer. */
async function placeUnqueued(
  db: DynamoDBDocumentClient,
  table: string,
  record: ContractRecord,
  schedule: Schedule,
): Promise<boolean> {
  const { set } = queueUpdate(record.out_contract_code, record, schedule);
  if (!set.next_check_at) return false;
  try {
    await db.send(
      new UpdateCommand({
        TableName: table,
        Key: { out_contract_code: record.out_contract_code },
        UpdateExpression: 'SET check_shard = :shard, next_check_at = :at',
        ConditionExpression: 'attribute_not_exists(check_shard) AND #version = :version',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: {
          ':shard': set.check_shard,
          ':at': set.next_check_at,
          ':version': record.version,
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
