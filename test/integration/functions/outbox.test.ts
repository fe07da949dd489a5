import assert from 'node:assert/strict';
import { after, before, describe, mock, test } from 'node:test';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { makeHandler } from '../../../functions/outbox';
import { lambdaContext } from '../../../infra/local/lambda-context';
import { main as operator } from '../../../infra/ops/invoke';
import { DynamoOutbox } from '../../../lib/aws/dynamo-outbox';
import { dynamoDocumentClient } from '../../../lib/aws/dynamodb-client';
import type { EventPublisher } from '../../../lib/contracts/ports';
import { DependencyUnavailable } from '../../../lib/errors';
import { metrics } from '../../../lib/observability';
import type { ServiceEvent } from '../../../lib/repayments/events';
import { wiring } from '../../support/config/wiring';
import { h5Body } from '../../support/contracts/fixtures';
import { MemoryPublisher } from '../../support/contracts/memory-publisher';
import { startTestStack, type TestStack } from '../../support/local/stack';

// The outbox against DynamoDB Local: EventBridge throttling for minutes (the stream's retries all fail) keeps
// each event in the contracts table at its first failure; the operator lists and replays them; and once the
// stream has given up (its 24 hours, Lambda's retries), the sweep still publishes them, whole.

/** EventBridge answering ThrottlingException to every PutEvents. */
class ThrottledBus implements EventPublisher {
  calls = 0;
  async publish(_events: ServiceEvent[]): Promise<void> {
    this.calls++;
    throw new DependencyUnavailable('EventBridge', 'PutEvents failed: ThrottlingException: Rate exceeded');
  }
}

const DAY_MS = 86_400_000;

describe('the outbox keeps what EventBridge would not take', () => {
  let stack: TestStack;
  const bus = new ThrottledBus();
  const codes: string[] = [];

  const entry = async (eventId: string) =>
    (
      await stack.db.send(
        new GetCommand({
          TableName: stack.env.CONTRACTS_TABLE,
          Key: { out_contract_code: `#outbox#ContractPresigned#${eventId}` },
          ConsistentRead: true,
        }),
      )
    ).Item;

  /** `npm run outbox -- <command>` in process (the same main the script runs); its JSON answer. */
  async function outbox(command: string): Promise<Record<string, unknown>> {
    const lines: string[] = [];
    const code = await operator(['outbox', command], (line) => lines.push(line));
    assert.equal(code, 0, lines.join('\n'));
    return JSON.parse(lines.join('\n')) as Record<string, unknown>;
  }

  before(async () => {
    stack = await startTestStack({ publisher: bus });
    process.env.AWS_ENDPOINT_URL_LAMBDA = stack.lambda.url;
  });
  after(async () => {
    delete process.env.AWS_ENDPOINT_URL_LAMBDA;
    await stack?.close();
  });

  test('every failed publish keeps the event at its first failure and counts it; the stream keeps retrying', async () => {
    const failed = mock.method(metrics, 'addMetric');
    // One contract: the local poller, like Lambda, delivers nothing behind a failing record until its retries
    // end, so a second one's change would not be read yet (the unit tests keep a whole batch's).
    const body = h5Body();
    assert.equal((await stack.request('POST', '/contracts/h5-presign', body)).status, 201);
    codes.push(String(body.out_contract_code));
    // The stream's retries (the local poller re-delivers every 500 ms, as Lambda retries) keep failing; each
    // keeps the failed change again, once per event.
    for (let i = 0; i < 100 && !((await entry(`${codes[0]}:2`))?.attempts >= 2); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const count = failed.mock.calls.filter((c) => c.arguments[0] === 'EventPublishFailed').length;
    failed.mock.restore();
    for (const code of codes) {
      const kept = await entry(`${code}:2`);
      assert.equal(kept?.event.type, 'ContractPresigned', code);
      assert.equal(kept?.event.detail.out_contract_code, code);
      assert.ok(kept?.attempts >= 1, `${code}: ${kept?.attempts} attempts`);
      assert.match(String(kept?.last_error), /ThrottlingException/);
    }
    assert.ok(count >= 2, `EventPublishFailed counted ${count} times (the alarm's metric)`);
    assert.ok(bus.calls >= 2);
  });

  test('npm run outbox: list shows them; a replay while EventBridge still throttles keeps them all', async () => {
    const listed = (await outbox('list')) as {
      entries: { event_id: string; type: string; last_error: string }[];
    };
    for (const code of codes) {
      const found = listed.entries.find((e) => e.event_id === `${code}:2`);
      assert.equal(found?.type, 'ContractPresigned', code);
      assert.match(String(found?.last_error), /ThrottlingException/);
    }
    const replay = (await outbox('replay')) as { published: number; failed: number; pending: string[] };
    assert.equal(replay.published, 0);
    for (const code of codes) assert.ok(replay.pending.includes(`${code}:2`), code);
    for (const code of codes) assert.ok(await entry(`${code}:2`), `${code} still kept`);
  });

  test('after the stream gave up, a day later, the sweep publishes each kept event, whole, and forgets it', async () => {
    const table = String(stack.env.CONTRACTS_TABLE);
    const kept = await Promise.all(codes.map((code) => entry(`${code}:2`)));
    // The stack (its stream poller: Lambda's retries) is gone; the bus works again; 25 hours have passed.
    await stack.close();
    const publisher = new MemoryPublisher();
    const later = Date.now() + DAY_MS + 3_600_000;
    const handler = makeHandler(
      wiring({ publisher, outbox: new DynamoOutbox(dynamoDocumentClient(), table), clock: () => later }),
    );
    const report = await handler({}, lambdaContext('outbox', 60_000));
    assert.deepEqual(report, { published: 1, failed: 0, pending: [] });
    assert.deepEqual(
      publisher.events.map((e) => e.detail.event_id).sort(),
      codes.map((code) => `${code}:2`).sort(),
    );
    for (const [i, code] of codes.entries()) {
      assert.deepEqual(
        publisher.events.find((e) => e.detail.out_contract_code === code),
        kept[i]?.event,
      );
    }
    const { Item } = await dynamoDocumentClient().send(
      new GetCommand({
        TableName: table,
        Key: { out_contract_code: `#outbox#ContractPresigned#${codes[0]}:2` },
        ConsistentRead: true,
      }),
    );
    assert.equal(Item, undefined, 'published, so forgotten');
  });
});
