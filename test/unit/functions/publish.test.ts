import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, Context, DynamoDBRecord } from 'aws-lambda';
import { makeHandler } from '../../../functions/publish';
import type { ContractState } from '../../../lib/contracts/lifecycle';
import type { ContractRecord } from '../../../lib/contracts/model';
import { metrics } from '../../../lib/observability';
import { wiring } from '../../support/config/wiring';
import { MemoryPublisher } from '../../support/contracts/memory-publisher';

const CODE = 'C202601010001';

function contract(
  state: ContractState,
  version: number,
  extra: Partial<ContractRecord> = {},
): ContractRecord {
  return {
    out_contract_code: CODE,
    state,
    appid: 'wxd678efh567hg6787',
    plan_id: '123',
    display_name: '**丰',
    repayment_amount_limit: '10000',
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: `2026-01-01T00:00:0${version}.000Z`,
    version,
    ...extra,
  };
}

const image = (r: ContractRecord) =>
  marshall(r, { removeUndefinedValues: true }) as Record<string, AttributeValue>;

let sequence = 100;
function change(previous: ContractRecord | undefined, next: ContractRecord): DynamoDBRecord {
  sequence += 1;
  return {
    eventID: `ev${sequence}`,
    eventName: previous ? 'MODIFY' : 'INSERT',
    eventSource: 'aws:dynamodb',
    dynamodb: {
      Keys: { out_contract_code: { S: next.out_contract_code } },
      ...(previous ? { OldImage: image(previous) } : {}),
      NewImage: image(next),
      SequenceNumber: String(sequence),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

const context = {
  functionName: 'publish',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:ap-southeast-1:000000000000:function:publish',
  memoryLimitInMB: '256',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/publish',
  logStreamName: 'test',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
} satisfies Context;

const counted = (spy: ReturnType<typeof mock.method>, name: string) =>
  spy.mock.calls.filter((c) => c.arguments[0] === name).reduce((sum, c) => sum + Number(c.arguments[2]), 0);

describe('publish handler', () => {
  afterEach(() => mock.restoreAll());

  const presigning = contract('PRESIGNING', 1);
  const presigned = contract('PRESIGNED', 2, { expires_at: '2026-01-01T00:10:00.000Z' });
  const refreshed = contract('PRESIGNED', 3, { wechatpay_request_id: 'R2' });
  const signed = contract('SIGNED', 4, { contract_id: 'CID1', openid: 'o-secret-openid' });

  it('publishes the events of state changes, in stream order, and reports no failure', async () => {
    const publisher = new MemoryPublisher();
    const addMetric = mock.method(metrics, 'addMetric');
    const result = await makeHandler(wiring({ publisher }))(
      {
        Records: [
          change(undefined, presigning),
          change(presigning, presigned),
          change(presigned, refreshed),
          change(refreshed, signed),
        ],
      },
      context,
    );
    assert.deepEqual(result, { batchItemFailures: [] });
    assert.deepEqual(
      publisher.events.map((e) => [e.type, e.detail.event_id, e.detail.previous_state]),
      [
        ['ContractPresigned', `${CODE}:2`, 'PRESIGNING'],
        ['ContractSigned', `${CODE}:4`, 'PRESIGNED'],
      ],
    );
    assert.equal(publisher.events[1]?.detail.contract_id, 'CID1');
    assert.equal(JSON.stringify(publisher.events).includes('o-secret-openid'), false);
    assert.equal(counted(addMetric, 'EventsPublished'), 2);
    assert.equal(counted(addMetric, 'EventPublishFailed'), 0);
  });

  it('announces a record inserted directly as SIGNED (created from a callback)', async () => {
    const publisher = new MemoryPublisher();
    const created = contract('SIGNED', 1, { origin: 'CALLBACK', contract_id: 'CID9' });
    await makeHandler(wiring({ publisher }))({ Records: [change(undefined, created)] }, context);
    assert.deepEqual(
      publisher.events.map((e) => [e.type, e.detail.event_id, e.detail.origin]),
      [['ContractSigned', `${CODE}:1`, 'CALLBACK']],
    );
  });

  it('stops at the first failed record and reports its sequence number, so Lambda retries from it', async () => {
    const terminated = contract('TERMINATED', 5, { contract_terminated_mode: 'USER_TERMINATE_CONTRACT' });
    const records = [change(presigning, presigned), change(presigned, signed), change(signed, terminated)];
    const publisher = new MemoryPublisher();
    let calls = 0;
    const flaky = {
      publish: async (events: Parameters<MemoryPublisher['publish']>[0]) => {
        calls += 1;
        if (calls === 2) throw new Error('EventBridge unavailable: PutEvents failed: ThrottlingException');
        await publisher.publish(events);
      },
    };
    const addMetric = mock.method(metrics, 'addMetric');
    const result = await makeHandler(wiring({ publisher: flaky }))({ Records: records }, context);
    assert.deepEqual(result, {
      batchItemFailures: [{ itemIdentifier: records[1]?.dynamodb?.SequenceNumber }],
    });
    assert.deepEqual(
      publisher.events.map((e) => e.type),
      ['ContractPresigned'],
      'nothing after the failed record may be published before it',
    );
    assert.equal(calls, 2);
    assert.equal(counted(addMetric, 'EventPublishFailed'), 1);
    assert.equal(counted(addMetric, 'EventsPublished'), 1);
  });

  it('reports a record whose image cannot be read as failed instead of skipping it', async () => {
    // An attribute type the SDK does not know: unmarshall throws.
    const broken: DynamoDBRecord = {
      eventName: 'MODIFY',
      dynamodb: { SequenceNumber: '900', NewImage: { state: { Z: 'SIGNED' } as never } },
    };
    const publisher = new MemoryPublisher();
    const result = await makeHandler(wiring({ publisher }))({ Records: [broken] }, context);
    assert.equal(publisher.attempts.length, 0);
    assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: '900' }] });
  });
});
