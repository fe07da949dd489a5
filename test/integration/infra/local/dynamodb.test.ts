import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type DynamoDbLocal, javaInstallHint, startDynamoDbLocal } from '../../../../infra/local/dynamodb';
import { assertPortFree } from '../../../../infra/local/ports';
import { createTables, readCloudFormationResources } from '../../../../infra/local/tables';

const TABLE = 'test-contracts';
const resources = readCloudFormationResources(join(import.meta.dirname, 'fixtures', 'tables.yml'));

describe('startDynamoDbLocal', () => {
  let db: DynamoDbLocal;
  let client: DynamoDBClient;
  const log: string[] = [];

  before(async () => {
    db = await startDynamoDbLocal({ port: 0, log: (line) => log.push(line) });
    client = new DynamoDBClient({
      endpoint: db.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'any', secretAccessKey: 'any' },
      maxAttempts: 1,
    });
  });
  after(async () => {
    client?.destroy();
    await db?.stop();
  });

  it('listens on a loopback endpoint and forwards its output to log', () => {
    assert.equal(db.endpoint, `http://127.0.0.1:${db.port}`);
    assert.ok(
      log.some((line) => line.includes(String(db.port))),
      log.join('\n'),
    );
  });

  it('creates a table from CloudFormation with its GSI, stream and TTL, idempotently', async () => {
    assert.deepEqual(await createTables(client, resources, { ContractsTable: TABLE }), [TABLE]);
    assert.deepEqual(await createTables(client, resources, { ContractsTable: TABLE }), [TABLE]);

    const { Table } = await client.send(new DescribeTableCommand({ TableName: TABLE }));
    assert.equal(Table?.TableStatus, 'ACTIVE');
    assert.equal(Table?.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
    assert.deepEqual(Table?.KeySchema, [{ AttributeName: 'out_contract_code', KeyType: 'HASH' }]);
    assert.deepEqual(
      Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.IndexStatus, i.Projection?.ProjectionType]),
      [['by-contract-id', 'ACTIVE', 'ALL']],
    );
    assert.deepEqual(Table?.StreamSpecification, {
      StreamEnabled: true,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    });
    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: TABLE }));
    assert.deepEqual(TimeToLiveDescription, { AttributeName: 'expires_at', TimeToLiveStatus: 'ENABLED' });
  });

  it('refuses a second conditional put of the same key', async () => {
    const put = () =>
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { out_contract_code: { S: 'C1' }, contract_id: { S: 'K1' } },
          ConditionExpression: 'attribute_not_exists(out_contract_code)',
        }),
      );
    await put();
    await assert.rejects(put(), ConditionalCheckFailedException);
  });

  it('stops (port released, calls fail) and starts again on the same port with no data', async () => {
    await db.stop();
    await assert.rejects(client.send(new ListTablesCommand({})), (error: Error) => {
      assert.match(`${error.name} ${error.message}`, /ECONNREFUSED/);
      return true;
    });
    await assertPortFree(db.port, '0.0.0.0', 'DYNAMODB_PORT');

    await db.start();
    assert.deepEqual((await client.send(new ListTablesCommand({}))).TableNames, []);
  });

  it('names the variable that moves a busy port, before starting Java', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      await assert.rejects(startDynamoDbLocal({ port, portVariable: 'DYNAMODB_PORT' }), {
        message: `port ${port} is busy; set DYNAMODB_PORT to move it`,
      });
    } finally {
      server.close();
    }
  });

  it('says how to install Java when it is missing', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await assert.rejects(startDynamoDbLocal(), (error: Error) => {
        assert.ok(error.message.endsWith(javaInstallHint()), error.message);
        assert.doesNotMatch(error.message, /ENOENT/);
        return true;
      });
    } finally {
      process.env.PATH = path;
    }
  });
});
