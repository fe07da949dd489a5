import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ContractRecord } from '../../../lib/contracts/model';

/** Where the records are: a TestStack, or a client for a DynamoDB Local the test started itself. */
export interface Tables {
  db: DynamoDBDocumentClient;
  env: { CONTRACTS_TABLE?: string };
}

export async function recordOf(stack: Tables, code: string): Promise<ContractRecord | undefined> {
  const { Item } = await stack.db.send(
    new GetCommand({
      TableName: stack.env.CONTRACTS_TABLE,
      Key: { out_contract_code: code },
      ConsistentRead: true,
    }),
  );
  return Item as ContractRecord | undefined;
}

const earlier = (iso: unknown, ms: number) =>
  typeof iso === 'string' ? new Date(Date.parse(iso) - ms).toISOString() : undefined;

type TimeField = 'created_at' | 'updated_at' | 'expires_at' | 'next_check_at';

/**
 * Moves a record's times `ms` into the past, as if that much time had gone by since it was written: how a
 * test reaches "the presign token lapsed" or "reconcile's turn" (its place in reconcile's queue moves with
 * them) without waiting. The version is kept, so the change is invisible to the optimistic-concurrency checks
 * the code under test makes.
 */
export async function backdate(
  stack: Tables,
  code: string,
  ms: number,
  fields: TimeField[] = ['created_at', 'updated_at', 'expires_at', 'next_check_at'],
): Promise<void> {
  const record = await recordOf(stack, code);
  if (!record) throw new Error(`no record ${code} to backdate`);
  const moved = fields.flatMap((k) => {
    const value = earlier(record[k], ms);
    return value ? [[k, value] as const] : [];
  });
  await stack.db.send(
    new UpdateCommand({
      TableName: stack.env.CONTRACTS_TABLE,
      Key: { out_contract_code: code },
      UpdateExpression: `SET ${moved.map((_, i) => `#t${i} = :t${i}`).join(', ')}`,
      ConditionExpression: '#version = :version',
      ExpressionAttributeNames: {
        '#version': 'version',
        ...Object.fromEntries(moved.map(([k], i) => [`#t${i}`, k])),
      },
      ExpressionAttributeValues: {
        ':version': record.version,
        ...Object.fromEntries(moved.map(([, v], i) => [`:t${i}`, v])),
      },
    }),
  );
}
