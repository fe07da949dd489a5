import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, mock, test } from 'node:test';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { main as operator } from '../../../../infra/ops/invoke';
import { DynamoNotificationStore } from '../../../../lib/aws/dynamo-notification-store';
import { metrics } from '../../../../lib/observability';
import { callback, SIGN_CONTRACT, signedContract } from '../../../support/wechatpay/callbacks';
import { type NotifyHarness, startNotifyHarness } from './harness';

// Nothing acknowledged is lost: verified callbacks this release cannot act on are kept without expiry,
// announced (NotificationUnhandled, through the outbox), counted for their alarm, and applied by an operator
// (`npm run notifications`, through the local stack's Lambda Invoke API) once a release knows how.

const NEW_EVENT_TYPE = 'CREDIT_REPAYMENT.SOMETHING_NEW';

describe('notify: what this release does not understand is kept, announced and applied later', () => {
  let h: NotifyHarness;
  let lambdaUrl: string;

  /** `npm run notifications -- <args>` in process (the same main the script runs); its JSON answer. */
  async function notifications(...args: string[]): Promise<Record<string, unknown>> {
    const lines: string[] = [];
    const code = await operator(['notifications', ...args], (line) => lines.push(line));
    assert.equal(code, 0, lines.join('\n'));
    return JSON.parse(lines.join('\n')) as Record<string, unknown>;
  }

  before(async () => {
    h = await startNotifyHarness('unhandled');
    lambdaUrl = h.stack.lambda.url;
    process.env.AWS_ENDPOINT_URL_LAMBDA = lambdaUrl;
  });
  after(async () => {
    delete process.env.AWS_ENDPOINT_URL_LAMBDA;
    await h?.close();
  });

  test('an unknown event type: 204, kept raw without expiry, one NotificationUnhandled without PII, counted', async () => {
    const openid = 'oSECRETopenid0000000000000001';
    const cb = callback(h.keys, { eventType: NEW_EVENT_TYPE, resource: { openid, amount: 1 } });
    const counted = mock.method(metrics, 'addMetric');
    const res = await h.acknowledged(cb);
    const unhandledMetrics = counted.mock.calls.filter(
      (c) => c.arguments[0] === 'NotificationUnhandled',
    ).length;
    counted.mock.restore();
    assert.equal(res.status, 204, JSON.stringify(res.body));
    assert.equal(unhandledMetrics, 1, 'the alarm’s metric');

    const kept = await h.notification(cb.id);
    assert.equal(kept?.outcome, 'UNHANDLED');
    assert.equal(kept?.reason, 'unknown event type');
    assert.equal(kept?.expires_at_epoch, undefined, 'no expiry: TTL never deletes it');
    assert.equal(kept?.raw_body, cb.body.toString('utf8'), 'the body exactly as received, still encrypted');
    assert.ok(!JSON.stringify(kept).includes(openid));

    await h.stack.drainEvents();
    const announced = h.stack.repaymentEvents.filter((e) => e.detail.event_id === cb.id);
    assert.deepEqual(
      announced.map((e) => [e.type, e.detail]),
      [
        [
          'NotificationUnhandled',
          {
            event_id: cb.id,
            notification_id: cb.id,
            event_type: NEW_EVENT_TYPE,
            reason: 'unknown event type',
            occurred_at: kept?.received_at,
          },
        ],
      ],
    );
    const outbox = (await h.scan('contracts')).filter((i) =>
      String(i.out_contract_code).startsWith('#outbox#'),
    );
    assert.deepEqual(outbox, [], 'announced, so no longer waiting in the outbox');

    assert.equal((await h.deliver(callback(h.keys, { id: cb.id, body: cb.body }))).status, 204);
    await h.stack.drainEvents();
    assert.equal(
      h.stack.repaymentEvents.filter((e) => e.detail.event_id === cb.id).length,
      1,
      'a redelivery is a duplicate: announced once',
    );
  });

  test('an unknown contract state: kept with its code, the contract untouched', async () => {
    const { code } = await h.presign();
    const before = await h.contract(code);
    const cb = callback(h.keys, {
      resource: signedContract(code, { contract_state: 'CONTRACT_STATE_PAUSED' }),
    });
    assert.equal((await h.deliver(cb)).status, 204);
    const kept = await h.notification(cb.id);
    assert.deepEqual(
      [kept?.outcome, kept?.reason, kept?.out_contract_code],
      ['UNHANDLED', 'unknown contract state', code],
    );
    assert.deepEqual(await h.contract(code), before);
    await h.stack.drainEvents();
    const [event] = h.stack.repaymentEvents.filter((e) => e.detail.event_id === cb.id);
    assert.equal(event?.detail.out_contract_code, code);
  });

  test('npm run notifications: list shows them without bodies; apply applies what this release understands, once', async () => {
    // A notification an earlier release kept (WeChat Pay's state then unknown to it), which this one understands.
    const { code } = await h.presign();
    const resource = signedContract(code);
    const earlier = callback(h.keys, { resource });
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: h.stack.env.AWS_ENDPOINT_URL_DYNAMODB,
        region: 'ap-southeast-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    const store = new DynamoNotificationStore(
      db,
      String(h.stack.env.NOTIFICATIONS_TABLE),
      String(h.stack.env.CONTRACTS_TABLE),
    );
    await store.record({
      id: earlier.id,
      event_type: SIGN_CONTRACT,
      create_time: '2026-11-27T13:00:00+08:00',
      received_at: new Date(Date.now() - 86_400_000).toISOString(),
      out_contract_code: code,
      outcome: 'UNHANDLED',
      reason: 'unknown contract state',
      raw_body: earlier.body.toString('utf8'),
    });
    db.destroy();

    // The real script, as an operator types it.
    const { stdout } = await promisify(execFile)('npm', ['run', '-s', 'notifications', '--', 'list'], {
      env: { ...process.env, AWS_ENDPOINT_URL_LAMBDA: lambdaUrl },
    });
    const listed = JSON.parse(stdout) as { notifications: Record<string, unknown>[] };
    const byId = new Map(listed.notifications.map((n) => [n.id, n]));
    assert.equal(byId.get(earlier.id)?.reason, 'unknown contract state');
    assert.ok(byId.size >= 3, `the kept ones: ${[...byId.keys()].join(', ')}`);
    assert.ok(!stdout.includes('raw_body') && !stdout.includes(String(resource.openid)), 'never the body');

    const applied = await notifications('apply');
    assert.deepEqual(applied.applied, [earlier.id]);
    assert.equal(
      (applied.still_unhandled as unknown[]).length,
      byId.size - 1,
      'the others are still unknown',
    );
    const contract = await h.contract(code);
    assert.deepEqual([contract?.state, contract?.contract_id], ['SIGNED', resource.contract_id]);
    assert.equal((await h.notification(earlier.id))?.outcome, 'APPLIED');
    await h.stack.drainEvents();
    assert.equal(
      h.stack.events.filter((e) => e.type === 'ContractSigned' && e.detail.out_contract_code === code).length,
      1,
    );

    const again = await notifications('apply', earlier.id);
    assert.deepEqual(again.not_unhandled, [earlier.id], 'applied once only');
    const after = (await notifications('list')) as { notifications: { id: string }[] };
    assert.ok(!after.notifications.some((n) => n.id === earlier.id), 'no longer listed');
  });

  test('a command it does not know is refused by name', async () => {
    const lines: string[] = [];
    assert.equal(await operator(['notifications', 'delete'], (l) => lines.push(l)), 1);
    assert.match(lines.join(''), /unknown command "notifications delete"/);
  });
});
