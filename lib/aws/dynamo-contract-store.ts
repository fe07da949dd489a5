import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { ContractState } from '../contracts/lifecycle';
import type { ContractRecord } from '../contracts/model';
import type { ClaimResult, ContractStore } from '../contracts/ports';
import type { Requeue } from '../contracts/recheck';
import {
  defaultSchedule,
  enqueueUnqueued,
  fromItem,
  listDue,
  queuedItem,
  queueUpdate,
  requeue,
  type Schedule,
} from './contract-queue';
import { dependencyUnavailable } from './dependency';

/**
 * Contract records in one DynamoDB table keyed by `out_contract_code`, each write placing the record in
 * reconcile's queue by `schedule` (contract-queue.ts; by default the documented recheck policy).
 */
export class DynamoContractStore implements ContractStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly schedule: Schedule = defaultSchedule,
  ) {}

  async claim(record: ContractRecord): Promise<ClaimResult> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: queuedItem(record, this.schedule),
          ConditionExpression: 'attribute_not_exists(out_contract_code)',
          // One round trip tells us who holds the code when the claim fails.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item) {
        return { claimed: false, existing: fromItem(unmarshall(error.Item)) };
      }
      throw dependencyUnavailable('DynamoDB', 'PutItem', error);
    }
  }

  async get(outContractCode: string): Promise<ContractRecord | undefined> {
    try {
      const { Item } = await this.db.send(
        new GetCommand({
          TableName: this.table,
          Key: { out_contract_code: outContractCode },
          ConsistentRead: true,
        }),
      );
      return Item && fromItem(Item);
    } catch (error) {
      throw dependencyUnavailable('DynamoDB', 'GetItem', error);
    }
  }

  async transition(
    current: Pick<ContractRecord, 'out_contract_code' | 'version'>,
    changes: Partial<ContractRecord> & { state: ContractState; updated_at: string },
  ): Promise<ContractRecord | undefined> {
    const queue = queueUpdate(current.out_contract_code, changes, this.schedule);
    const fields = [
      ...Object.entries(changes).filter(
        ([k, v]) =>
          v !== undefined && !['out_contract_code', 'version', 'next_check_at', 'check_attempts'].includes(k),
      ),
      ...Object.entries(queue.set),
    ];
    const names: Record<string, string> = { '#version': 'version' };
    const values: Record<string, unknown> = { ':expected': current.version, ':next': current.version + 1 };
    const sets = fields.map(([key, value], i) => {
      names[`#f${i}`] = key;
      values[`:f${i}`] = value;
      return `#f${i} = :f${i}`;
    });
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { out_contract_code: current.out_contract_code },
          UpdateExpression: `SET ${[...sets, '#version = :next'].join(', ')} REMOVE ${queue.remove.join(', ')}`,
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes && fromItem(Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw dependencyUnavailable('DynamoDB', 'UpdateItem', error);
    }
  }

  async save(next: ContractRecord): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: queuedItem(next, this.schedule),
          ...versionCondition(next),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw dependencyUnavailable('DynamoDB', 'PutItem', error);
    }
  }

  listDue(now: string, limit: number): Promise<ContractRecord[]> {
    return listDue(this.db, this.table, now, limit);
  }

  requeue(current: Pick<ContractRecord, 'out_contract_code' | 'version'>, next: Requeue): Promise<boolean> {
    return requeue(this.db, this.table, current, next);
  }

  enqueueUnqueued(limit: number, cursor?: string): Promise<{ queued: number; cursor?: string }> {
    return enqueueUnqueued(this.db, this.table, this.schedule, limit, cursor);
  }
}

/** Optimistic concurrency: a whole-record write only lands on the version it was computed from. */
export function versionCondition(next: ContractRecord) {
  return next.version === 1
    ? { ConditionExpression: 'attribute_not_exists(out_contract_code)' }
    : {
        ConditionExpression: '#version = :previous',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':previous': next.version - 1 },
      };
}
