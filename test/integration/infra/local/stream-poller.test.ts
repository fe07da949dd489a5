import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { makeHandler } from '../../../../functions/publish';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../../../infra/local/dynamodb';
import {
  type StreamHandler,
  type StreamPoller,
  startStreamPoller,
} from '../../../../infra/local/stream-poller';
import { createTables, readCloudFormationResources } from '../../../../infra/local/tables';
import { DynamoContractStore } from '../../../../lib/aws/dynamo-contract-store';
import type { ContractRecord } from '../../../../lib/contracts/model';
import { wiring } from '../../../support/config/wiring';
import { contractEvents } from '../../../support/contracts/events';
import { uniqueCode } from '../../../support/contracts/fixtures';
import { MemoryOutbox } from '../../../support/contracts/memory-outbox';
import { MemoryPublisher } from '../../../support/contracts/memory-publisher';

const TABLES_YML = join(import.meta.dirname, '../../../../infra/aws/tables.yml');

let local: DynamoDbLocal | undefined;
let endpoint: string;
let client: DynamoDBClient;

before(async () => {
  // `npm test` shares one DynamoDB Local; run alone, this file brings its own.
  endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB ?? '';
  if (!endpoint) {
    local = await startDynamoDbLocal();
    endpoint = local.endpoint;
  }
  client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

after(async () => {
  client.destroy();
  await local?.stop();
});

/** A fresh contracts table, exactly as the deployed template defines it (stream included). */
async function contractsTable(): Promise<string> {
  const { ContractsTable } = readCloudFormationResources(TABLES_YML);
  assert.ok(ContractsTable, 'infra/aws/tables.yml defines ContractsTable');
  const name = `contracts-${randomBytes(6).toString('hex')}`;
  await createTables(client, { ContractsTable }, { ContractsTable: name });
  return name;
}

async function withPoller<T>(
  tableName: string,
  handler: StreamHandler,
  body: (poller: StreamPoller) => Promise<T>,
  idleIntervalMs?: number,
): Promise<T> {
  const poller = await startStreamPoller({
    endpoint,
    tableName,
    handler,
    intervalMs: 50,
    retryDelayMs: 100,
    ...(idleIntervalMs === undefined ? {} : { idleIntervalMs }),
  });
  try {
    return await body(poller);
  } finally {
    await poller.stop();
  }
}

function presigning(code: string, now: string): ContractRecord {
  return {
    out_contract_code: code,
    state: 'PRESIGNING',
    kind: 'H5',
    request_hash: 'h',
    appid: 'wxd678efh567hg6787',
    plan_id: '123',
    display_name: '**丰',
    repayment_amount_limit: '10000',
    sub_mchid: '1000000109',
    origin: 'PRESIGN',
    created_at: now,
    updated_at: now,
    version: 1,
  };
}

const at = (second: number) => `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z`;

describe('the event outbox: contracts table stream -> functions/publish', () => {
  it('turns a contract lifecycle written to DynamoDB into exactly its three events, in order', async () => {
    const table = await contractsTable();
    const store = new DynamoContractStore(
      DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
      table,
    );
    const publisher = new MemoryPublisher();
    const code = uniqueCode('EV');
    await withPoller(
      table,
      makeHandler(wiring({ publisher, outbox: new MemoryOutbox(), clock: Date.now })),
      async (poller) => {
        assert.deepEqual(await store.claim(presigning(code, at(0))), { claimed: true });
        let record = await store.transition(
          { out_contract_code: code, version: 1 },
          { state: 'PRESIGNED', updated_at: at(1), redirect_url: 'https://wx.example/p?t=secret' },
        );
        // A change that is not a state change: no event.
        record = await store.transition(record ?? assert.fail('PRESIGNED not stored'), {
          state: 'PRESIGNED',
          updated_at: at(2),
          wechatpay_request_id: 'R2',
        });
        record = await store.transition(record ?? assert.fail('refresh not stored'), {
          state: 'SIGNED',
          updated_at: at(3),
          contract_id: 'CID-1',
          openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
        });
        await store.transition(record ?? assert.fail('SIGNED not stored'), {
          state: 'TERMINATED',
          updated_at: at(4),
          contract_terminated_mode: 'MERCHANT_TERMINATE_CONTRACT',
        });
        await poller.drain();
      },
    );
    assert.deepEqual(
      contractEvents(publisher.events).map((e) => [
        e.type,
        e.detail.event_id,
        e.detail.previous_state,
        e.detail.occurred_at,
      ]),
      [
        ['ContractPresigned', `${code}:2`, 'PRESIGNING', at(1)],
        ['ContractSigned', `${code}:4`, 'PRESIGNED', at(3)],
        ['ContractTerminated', `${code}:5`, 'SIGNED', at(4)],
      ],
    );
    assert.equal(contractEvents(publisher.events)[2]?.detail.contract_id, 'CID-1');
    const serialised = JSON.stringify(publisher.events);
    assert.equal(serialised.includes('oUpF8uMuAJO_M2pxb1Q9zNjWeS6o'), false);
    assert.equal(serialised.includes('secret'), false);
  });

  it('re-delivers after a failed publish: the event still arrives, with the same event_id', async () => {
    const table = await contractsTable();
    const store = new DynamoContractStore(DynamoDBDocumentClient.from(client), table);
    const publisher = new MemoryPublisher().failNext(1);
    const code = uniqueCode('EV');
    await withPoller(
      table,
      makeHandler(wiring({ publisher, outbox: new MemoryOutbox(), clock: Date.now })),
      async (poller) => {
        await store.claim(presigning(code, at(0)));
        await store.transition(
          { out_contract_code: code, version: 1 },
          { state: 'PRESIGNED', updated_at: at(1) },
        );
        await poller.drain();
      },
    );
    assert.deepEqual(
      publisher.attempts.map((a) => [a.failed, a.events.map((e) => e.detail.event_id)]),
      [
        [true, [`${code}:2`]],
        [false, [`${code}:2`]],
      ],
    );
    assert.deepEqual(
      publisher.events.map((e) => e.type),
      ['ContractPresigned'],
    );
  });
});

describe('startStreamPoller', () => {
  async function writeThree(table: string): Promise<void> {
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: item('A', 1, { blob: { B: new Uint8Array([1, 2, 3]) } }),
      }),
    );
    await client.send(new PutItemCommand({ TableName: table, Item: item('A', 2) }));
    await client.send(new PutItemCommand({ TableName: table, Item: item('B', 1) }));
  }

  function item(code: string, version: number, extra = {}) {
    return { out_contract_code: { S: code }, version: { N: String(version) }, ...extra };
  }

  const summary = (r: DynamoDBRecord) =>
    `${r.eventName} ${r.dynamodb?.Keys?.out_contract_code?.S}@${r.dynamodb?.NewImage?.version?.N}`;

  it("delivers records in Lambda's shape, and re-delivers from the record reported as failed", async () => {
    const table = await contractsTable();
    await writeThree(table);
    const batches: DynamoDBRecord[][] = [];
    await withPoller(
      table,
      async (event) => {
        batches.push(event.Records);
        if (batches.length > 1) return { batchItemFailures: [] };
        return { batchItemFailures: [{ itemIdentifier: event.Records[1]?.dynamodb?.SequenceNumber ?? '' }] };
      },
      (poller) => poller.drain(),
    );
    assert.deepEqual(
      batches.map((b) => b.map(summary)),
      [
        ['INSERT A@1', 'MODIFY A@2', 'INSERT B@1'],
        ['MODIFY A@2', 'INSERT B@1'],
      ],
    );
    const [first, second] = batches[0] ?? [];
    assert.equal(first?.eventSource, 'aws:dynamodb');
    assert.match(first?.eventSourceARN ?? '', new RegExp(`table/${table}/stream/`));
    assert.equal(first?.dynamodb?.StreamViewType, 'NEW_AND_OLD_IMAGES');
    assert.equal(typeof first?.dynamodb?.ApproximateCreationDateTime, 'number');
    assert.deepEqual(
      first?.dynamodb?.NewImage?.blob,
      { B: 'AQID' },
      'binary arrives base64-encoded, as in Lambda',
    );
    assert.deepEqual(second?.dynamodb?.OldImage?.version, { N: '1' });
    assert.ok(
      BigInt(second?.dynamodb?.SequenceNumber ?? '0') > BigInt(first?.dynamodb?.SequenceNumber ?? '0'),
    );
  });

  it('re-delivers the whole batch when the handler throws', async () => {
    const table = await contractsTable();
    await writeThree(table);
    const batches: string[][] = [];
    await withPoller(
      table,
      async (event) => {
        batches.push(event.Records.map(summary));
        if (batches.length === 1) throw new Error('handler crashed');
      },
      (poller) => poller.drain(),
    );
    assert.deepEqual(batches, [
      ['INSERT A@1', 'MODIFY A@2', 'INSERT B@1'],
      ['INSERT A@1', 'MODIFY A@2', 'INSERT B@1'],
    ]);
  });

  it('polls an idle stream only as often as it is told, and at once when drained', async () => {
    const table = await contractsTable();
    const delivered: string[] = [];
    await withPoller(
      table,
      async (event) => {
        delivered.push(...event.Records.map(summary));
      },
      async (poller) => {
        await poller.drain();
        await client.send(new PutItemCommand({ TableName: table, Item: item('A', 1) }));
        await sleep(300);
        assert.deepEqual(delivered, [], 'an idle poller waits out its pause');
        await poller.drain(5_000);
        assert.deepEqual(delivered, ['INSERT A@1']);
      },
      60_000,
    );
  });

  it('says why when a drain cannot finish', async () => {
    const table = await contractsTable();
    await client.send(new PutItemCommand({ TableName: table, Item: item('A', 1) }));
    await withPoller(
      table,
      async () => {
        throw new Error('always down');
      },
      async (poller) => {
        await assert.rejects(poller.drain(400), {
          message:
            /not drained after 400 ms: 1 record\(s\) undelivered; last problem: handler threw Error: always down/,
        });
      },
    );
  });

  it('refuses a table without a stream', async () => {
    const table = `plain-${randomBytes(6).toString('hex')}`;
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }],
      }),
    );
    await assert.rejects(startStreamPoller({ endpoint, tableName: table, handler: async () => {} }), {
      message: `table ${table} has no stream: give it a StreamSpecification (NEW_AND_OLD_IMAGES)`,
    });
  });
});
