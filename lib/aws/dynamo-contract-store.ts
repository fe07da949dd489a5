import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { ContractState } from '../contracts/lifecycle';
import type { ContractRecord } from '../contracts/model';
import type { ClaimResult, ContractStore } from '../contracts/ports';
import { dependencyUnavailable } from './dependency';

/** Contract records in one DynamoDB table keyed by `out_contract_code`. */
export class DynamoContractStore implements ContractStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async claim(record: ContractRecord): Promise<ClaimResult> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: record,
          ConditionExpression: 'attribute_not_exists(out_contract_code)',
          // One round trip tells us who holds the code when the claim fails.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && error.Item) {
        return { claimed: false, existing: unmarshall(error.Item) as ContractRecord };
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
      return Item as ContractRecord | undefined;
    } catch (error) {
      throw dependencyUnavailable('DynamoDB', 'GetItem', error);
    }
  }

  async transition(
    current: Pick<ContractRecord, 'out_contract_code' | 'version'>,
    changes: Partial<ContractRecord> & { state: ContractState; updated_at: string },
  ): Promise<ContractRecord | undefined> {
    const fields = Object.entries(changes).filter(
      ([k, v]) => v !== undefined && k !== 'out_contract_code' && k !== 'version',
    );
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
          UpdateExpression: `SET ${[...sets, '#version = :next'].join(', ')}`,
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes as ContractRecord;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw dependencyUnavailable('DynamoDB', 'UpdateItem', error);
    }
  }

  async save(next: ContractRecord): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({ TableName: this.table, Item: next, ...versionCondition(next) }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw dependencyUnavailable('DynamoDB', 'PutItem', error);
    }
  }

  async listStale(state: ContractState, updatedBefore: string, limit: number): Promise<ContractRecord[]> {
    try {
      const { Items } = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'by_state',
          KeyConditionExpression: '#state = :state AND updated_at < :before',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':state': state, ':before': updatedBefore },
          Limit: limit,
        }),
      );
      return (Items ?? []) as ContractRecord[];
    } catch (error) {
      throw dependencyUnavailable('DynamoDB', 'Query by_state', error);
    }
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
