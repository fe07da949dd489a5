import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, Context, DynamoDBRecord } from 'aws-lambda';
import { build, type Metafile } from 'esbuild';
import { makeHandler } from '../../../functions/publish';
import { outboxItem } from '../../../lib/aws/outbox';
import { ANSWER_MS, RECORD_MS } from '../../../lib/contracts/budget';
import type { ContractState } from '../../../lib/contracts/lifecycle';
import type { ContractRecord } from '../../../lib/contracts/model';
import { PUBLISH_MS } from '../../../lib/contracts/outbox';
import { metrics } from '../../../lib/observability';
import { wiring } from '../../support/config/wiring';
import { contractEvents } from '../../support/contracts/events';
import { MemoryOutbox } from '../../support/contracts/memory-outbox';
import { MemoryPublisher } from '../../support/contracts/memory-publisher';

const CODE = 'C202601010001';
const NOW = Date.parse('2026-01-01T00:00:10.000Z');

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
    const result = await makeHandler(wiring({ publisher, outbox: new MemoryOutbox(), clock: Date.now }))(
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
      contractEvents(publisher.events).map((e) => [e.type, e.detail.event_id, e.detail.previous_state]),
      [
        ['ContractPresigned', `${CODE}:2`, 'PRESIGNING'],
        ['ContractSigned', `${CODE}:4`, 'PRESIGNED'],
      ],
    );
    assert.equal(contractEvents(publisher.events)[1]?.detail.contract_id, 'CID1');
    assert.equal(JSON.stringify(publisher.events).includes('o-secret-openid'), false);
    assert.equal(counted(addMetric, 'EventsPublished'), 2);
    assert.equal(counted(addMetric, 'EventPublishFailed'), 0);
  });

  it('announces a record inserted directly as SIGNED (created from a callback)', async () => {
    const publisher = new MemoryPublisher();
    const created = contract('SIGNED', 1, { origin: 'CALLBACK', contract_id: 'CID9' });
    await makeHandler(wiring({ publisher, outbox: new MemoryOutbox(), clock: Date.now }))(
      { Records: [change(undefined, created)] },
      context,
    );
    assert.deepEqual(
      contractEvents(publisher.events).map((e) => [e.type, e.detail.event_id, e.detail.origin]),
      [['ContractSigned', `${CODE}:1`, 'CALLBACK']],
    );
  });

  it('stops at the first failed record, keeps its events and those behind it in the outbox, and reports it so Lambda retries from it', async () => {
    const terminated = contract('TERMINATED', 5, { contract_terminated_mode: 'USER_TERMINATE_CONTRACT' });
    const records = [change(presigning, presigned), change(presigned, signed), change(signed, terminated)];
    const publisher = new MemoryPublisher();
    const outbox = new MemoryOutbox();
    let calls = 0;
    const flaky = {
      publish: async (events: Parameters<MemoryPublisher['publish']>[0]) => {
        calls += 1;
        if (calls === 2) throw new Error('EventBridge unavailable: PutEvents failed: ThrottlingException');
        await publisher.publish(events);
      },
    };
    const addMetric = mock.method(metrics, 'addMetric');
    const result = await makeHandler(wiring({ publisher: flaky, outbox, clock: () => NOW }))(
      { Records: records },
      context,
    );
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
    // Replayable whatever Lambda's retries do: the events themselves, this one's and those behind it, due for
    // the sweep after the retries.
    const due = new Date(NOW + 15 * 60_000).toISOString();
    assert.deepEqual(
      [...outbox.entries.values()].map((e) => [
        e.event.type,
        e.event.detail.event_id,
        e.attempts,
        e.next_attempt_at,
      ]),
      [
        ['ContractSigned', `${CODE}:4`, 1, due],
        ['ContractTerminated', `${CODE}:5`, 1, due],
      ],
    );
    assert.match(String(outbox.entries.get(`${CODE}:4`)?.last_error), /ThrottlingException/);
  });

  it('inside the function’s time: a PutEvents that hangs is given up in time to keep it and what is behind it', async () => {
    const records = [change(presigning, presigned), change(presigned, signed)];
    const outbox = new MemoryOutbox();
    const hanging = { publish: () => new Promise<void>(() => {}) };
    const budgetMs = PUBLISH_MS + ANSWER_MS + 500;
    const deadline = Date.now() + budgetMs;
    const started = Date.now();
    const result = await makeHandler(wiring({ publisher: hanging, outbox, clock: () => NOW }))(
      { Records: records },
      { ...context, getRemainingTimeInMillis: () => deadline - Date.now() },
    );
    const took = Date.now() - started;
    assert.ok(took < budgetMs - ANSWER_MS - RECORD_MS + 300, `answered after ${took} ms`);
    assert.deepEqual(result, {
      batchItemFailures: [{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber }],
    });
    assert.deepEqual([...outbox.entries.keys()], [`${CODE}:2`, `${CODE}:4`]);
    assert.match(String(outbox.entries.get(`${CODE}:2`)?.last_error), /PutEvents got no answer in the time/);
  });

  it('inside the function’s time: with too little left to publish, keeps the batch and reports it, publishing nothing', async () => {
    const records = [change(presigning, presigned)];
    const publisher = new MemoryPublisher();
    const outbox = new MemoryOutbox();
    const result = await makeHandler(wiring({ publisher, outbox, clock: () => NOW }))(
      { Records: records },
      { ...context, getRemainingTimeInMillis: () => PUBLISH_MS },
    );
    assert.deepEqual(result, {
      batchItemFailures: [{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber }],
    });
    assert.equal(publisher.attempts.length, 0);
    assert.match(
      String(outbox.entries.get(`${CODE}:2`)?.last_error),
      /too little of the function's time left/,
    );
  });

  it('publishes an entry a writer stored at once and forgets it; one that fails waits for the sweep, the stream goes on', async () => {
    const entry = (id: string) => ({
      event: {
        type: 'NotificationUnhandled' as const,
        detail: {
          event_id: id,
          notification_id: id,
          event_type: 'CREDIT_REPAYMENT.SOMETHING_NEW',
          reason: 'unknown event type',
          occurred_at: '2026-01-01T00:00:00.000Z',
        },
      },
      attempts: 0,
      next_attempt_at: '2026-01-01T00:05:00.000Z',
      created_at: '2026-01-01T00:00:00.000Z',
    });
    const stored = (id: string, eventName: 'INSERT' | 'MODIFY' | 'REMOVE'): DynamoDBRecord => {
      const image = marshall(outboxItem(entry(id)), { removeUndefinedValues: true }) as Record<
        string,
        AttributeValue
      >;
      sequence += 1;
      return {
        eventName,
        dynamodb: {
          Keys: { out_contract_code: { S: `#outbox#NotificationUnhandled#${id}` } },
          ...(eventName === 'INSERT' ? {} : { OldImage: image }),
          ...(eventName === 'REMOVE' ? {} : { NewImage: image }),
          SequenceNumber: String(sequence),
        },
      };
    };
    const outbox = new MemoryOutbox();
    for (const id of ['N1', 'N2']) outbox.entries.set(id, entry(id));
    const publisher = new MemoryPublisher();
    let first = true;
    const flaky = {
      publish: async (events: Parameters<MemoryPublisher['publish']>[0]) => {
        if (first) {
          first = false;
          throw new Error('EventBridge unavailable: PutEvents failed: ThrottlingException');
        }
        await publisher.publish(events);
      },
    };
    // N3 was kept by this function after a failed publish: its change is still the stream's to retry.
    const kept = stored('N3', 'INSERT');
    const keptImage = kept.dynamodb?.NewImage as Record<string, AttributeValue>;
    keptImage.attempts = { N: '1' };
    const records = [
      stored('N1', 'INSERT'),
      kept,
      stored('N2', 'INSERT'),
      stored('N2', 'MODIFY'),
      stored('N2', 'REMOVE'),
      change(presigning, presigned),
    ];
    const result = await makeHandler(wiring({ publisher: flaky, outbox, clock: () => NOW }))(
      { Records: records },
      context,
    );
    assert.deepEqual(result, { batchItemFailures: [] });
    assert.deepEqual(
      publisher.events.map((e) => e.detail.event_id),
      ['N2', `${CODE}:2`],
      'each stored entry tried once, on its INSERT, the kept one not at all; the contract change after them published',
    );
    assert.deepEqual([...outbox.entries.keys()], ['N1'], 'the published one forgotten');
    const waiting = outbox.entries.get('N1');
    assert.deepEqual(
      [waiting?.attempts, waiting?.next_attempt_at],
      [1, new Date(NOW + 5 * 60_000).toISOString()],
    );
  });

  it('reports a record whose image cannot be read as failed instead of skipping it', async () => {
    // An attribute type the SDK does not know: unmarshall throws.
    const broken: DynamoDBRecord = {
      eventName: 'MODIFY',
      dynamodb: { SequenceNumber: '900', NewImage: { state: { Z: 'SIGNED' } as never } },
    };
    const publisher = new MemoryPublisher();
    const result = await makeHandler(wiring({ publisher, outbox: new MemoryOutbox(), clock: Date.now }))(
      { Records: [broken] },
      context,
    );
    assert.equal(publisher.attempts.length, 0);
    assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: '900' }] });
  });
});

/** The inputs `from` reaches in `metafile`, following only the import kinds `follow` accepts. */
function reached(metafile: Metafile, from: string, follow: (kind: string) => boolean): Set<string> {
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const edge of metafile.inputs[path]?.imports ?? []) if (follow(edge.kind)) visit(edge.path);
  };
  visit(from);
  return seen;
}

describe('publish cold start', () => {
  it('evaluates no DynamoDB client: the outbox adapter is bundled behind a dynamic import only', async () => {
    const entry = 'functions/publish.ts';
    const { metafile } = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      write: false,
      metafile: true,
      logLevel: 'error',
    });
    const dynamodb = (paths: Set<string>) =>
      [...paths].filter((p) => /node_modules\/@aws-sdk\/(client|lib)-dynamodb\//.test(p));
    assert.deepEqual(dynamodb(reached(metafile, entry, (kind) => kind !== 'dynamic-import')), []);
    assert.notDeepEqual(dynamodb(reached(metafile, entry, () => true)), [], 'bundled, for the first refusal');
  });
});
