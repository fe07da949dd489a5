import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dependencyUnavailable } from './dependency';

/**
 * One page of a sparse index whose whole content is one key value (the kept notifications of either table), and
 * the opaque cursor an operator passes back for the next page: DynamoDB's LastEvaluatedKey, base64url JSON.
 */
export async function indexPage(
  db: DynamoDBDocumentClient,
  query: { table: string; index: string; key: string; value: string; limit: number; cursor?: string },
): Promise<{ items: Record<string, unknown>[]; cursor?: string }> {
  try {
    const { Items, LastEvaluatedKey } = await db.send(
      new QueryCommand({
        TableName: query.table,
        IndexName: query.index,
        KeyConditionExpression: '#key = :value',
        ExpressionAttributeNames: { '#key': query.key },
        ExpressionAttributeValues: { ':value': query.value },
        Limit: query.limit,
        ...(query.cursor
          ? { ExclusiveStartKey: JSON.parse(Buffer.from(query.cursor, 'base64url').toString()) }
          : {}),
      }),
    );
    const items = Items ?? [];
    const next = LastEvaluatedKey && Buffer.from(JSON.stringify(LastEvaluatedKey)).toString('base64url');
    return next ? { items, cursor: next } : { items };
  } catch (error) {
    throw dependencyUnavailable('DynamoDB', `Query ${query.index}`, error);
  }
}
