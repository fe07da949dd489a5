import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handlerFor } from '../../../../functions/publish';
import { lambdaContext } from '../../../../infra/local/lambda-context';
import { EventBridgePublisher, LogPublisher } from '../../../../lib/aws/eventbridge-publisher';
import { publishDeps } from '../../../../lib/config/publish-deps';
import { createRuntime } from '../../../../lib/config/runtime';
import type { ContractRecord } from '../../../../lib/contracts/model';
import { PRESIGNED_BY_US } from '../../../support/contracts/fixtures';
import { MemoryPublisher } from '../../../support/contracts/memory-publisher';

process.env.AWS_REGION ??= 'ap-southeast-1';

const CODE = 'C202601010002';

const record = (state: 'PRESIGNING' | 'PRESIGNED', version: number): ContractRecord => ({
  ...PRESIGNED_BY_US,
  out_contract_code: CODE,
  state,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: `2026-01-01T00:00:0${version}.000Z`,
  version,
  ...(state === 'PRESIGNED' ? { expires_at: '2026-01-01T00:10:00.000Z' } : {}),
});

/** The stream's record of a contract going PRESIGNING -> PRESIGNED: one ContractPresigned to publish. */
const presigned = (sequence: string): DynamoDBRecord => ({
  eventName: 'MODIFY',
  dynamodb: {
    Keys: { out_contract_code: { S: CODE } },
    OldImage: marshall(record('PRESIGNING', 1)) as Record<string, AttributeValue>,
    NewImage: marshall(record('PRESIGNED', 2), { removeUndefinedValues: true }) as Record<
      string,
      AttributeValue
    >,
    SequenceNumber: sequence,
  },
});

describe('publishDeps: the stream publisher’s wiring', () => {
  const db = mockClient(DynamoDBDocumentClient);
  after(() => db.restore());

  it('needs EVENT_BUS_NAME and its table: logged when unset, published to the bus otherwise', async () => {
    const env: NodeJS.ProcessEnv = { CONTRACTS_TABLE: 'contracts' };
    const wiring = publishDeps(createRuntime({ env }));
    const logged = await wiring.load();
    assert.ok(logged.publisher instanceof LogPublisher);
    env.EVENT_BUS_NAME = '  ';
    assert.equal(await wiring.load(), logged);
    env.EVENT_BUS_NAME = 'bus';
    const published = await wiring.load();
    assert.ok(published.publisher instanceof EventBridgePublisher);
    assert.equal(await wiring.load(), published);
  });

  it('touches DynamoDB only once the bus refuses, and then keeps the refused event in the outbox', async () => {
    db.reset();
    db.on(UpdateCommand).resolves({});
    const bus = new MemoryPublisher();
    const handler = handlerFor(createRuntime({ env: { CONTRACTS_TABLE: 'contracts' }, publisher: bus }));
    assert.deepEqual(await handler({ Records: [presigned('1')] }, lambdaContext('publish', 30_000)), {
      batchItemFailures: [],
    });
    assert.equal(db.calls().length, 0, 'a publish that succeeds sends nothing to DynamoDB');
    bus.failNext();
    assert.deepEqual(await handler({ Records: [presigned('2')] }, lambdaContext('publish', 30_000)), {
      batchItemFailures: [{ itemIdentifier: '2' }],
    });
    const kept = db.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    assert.equal(kept.length, 1);
    assert.equal(kept[0]?.TableName, 'contracts');
    assert.deepEqual(kept[0]?.Key, { out_contract_code: `#outbox#ContractPresigned#${CODE}:2` });
    assert.match(String(kept[0]?.ExpressionAttributeValues?.[':error']), /MemoryPublisher told to fail/);
  });
});
