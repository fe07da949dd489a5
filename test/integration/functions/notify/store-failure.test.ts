import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../../../infra/local/dynamodb';
import { type KmsStandIn, startKmsStandIn } from '../../../../infra/local/kms/server';
import { createTables, readCloudFormationResources } from '../../../../infra/local/tables';
import { uniqueCode } from '../../../support/contracts/fixtures';
import { callback, resend, signedContract } from '../../../support/wechatpay/callbacks';
import { type NotifyHarness, startNotifyHarness } from './harness';

/**
 * A TCP relay in front of DynamoDB Local that can swallow every request: a partition or a stuck node, the
 * failure a stopped process (connection refused, answered at once) does not show.
 */
async function startRelay(targetPort: number) {
  let swallowing = false;
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (swallowing) return;
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const dropAll = () => {
    for (const s of open) s.destroy();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    /** Kept-alive connections are cut so that every later request meets the new behaviour. */
    swallow(on: boolean) {
      swallowing = on;
      dropAll();
    },
    close: () =>
      new Promise<void>((ok) => {
        dropAll();
        server.close(() => ok());
      }),
  };
}

describe('notify: a store failure answers 500 FAIL so WeChat Pay retries, and the retry is applied', () => {
  let dynamodb: DynamoDbLocal;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let ownKms: KmsStandIn | undefined;
  let h: NotifyHarness;

  before(async () => {
    dynamodb = await startDynamoDbLocal();
    relay = await startRelay(dynamodb.port);
    let kms = process.env.AWS_ENDPOINT_URL_KMS;
    if (!kms) {
      ownKms = await startKmsStandIn();
      kms = ownKms.url;
    }
    h = await startNotifyHarness('store-failure', { endpoints: { dynamodb: relay.url, kms } });
  });
  after(async () => {
    relay?.swallow(false);
    await h?.close();
    await relay?.close();
    await dynamodb?.stop();
    await ownKms?.close();
  });

  /** DynamoDB Local keeps its data in memory: after a restart the tables are made again, as deployed. */
  async function recreateTables() {
    const client = new DynamoDBClient({
      endpoint: dynamodb.endpoint,
      region: 'ap-southeast-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await createTables(client, readCloudFormationResources(join(process.cwd(), 'infra/aws/tables.yml')), {
      ContractsTable: h.stack.env.CONTRACTS_TABLE as string,
      NotificationsTable: h.stack.env.NOTIFICATIONS_TABLE as string,
      RepaymentsTable: h.stack.env.REPAYMENTS_TABLE as string,
    });
    client.destroy();
  }

  async function assertAppliedOnce(code: string, id: string) {
    const contract = await h.contract(code);
    assert.equal(contract?.state, 'SIGNED');
    assert.equal(contract?.origin, 'CALLBACK');
    assert.equal(contract?.version, 1);
    const stored = (await h.scan('notifications')).filter((n) => n.id === id);
    assert.equal(stored.length, 1);
    assert.equal(stored[0]?.outcome, 'APPLIED');
  }

  test('DynamoDB Local stopped: 500 FAIL; after a restart the same notification is applied', async () => {
    // A first delivery leaves kept-alive connections in the handler's client, as in a warm Lambda.
    assert.equal(
      (await h.deliver(callback(h.keys, { resource: signedContract(uniqueCode('W')) }))).status,
      204,
    );
    const code = uniqueCode('SF');
    const cb = callback(h.keys, { resource: signedContract(code) });

    await dynamodb.stop();
    const down = await h.deliver(cb);
    console.log(`notify: answer with DynamoDB Local stopped: ${down.status} after ${down.ms.toFixed(0)} ms`);
    assert.equal(down.status, 500, JSON.stringify(down.body));
    assert.deepEqual(down.body, { code: 'FAIL', message: 'could not store the notification; please retry' });

    await dynamodb.start();
    await recreateTables();
    const retry = await h.deliver(resend(h.keys, cb));
    assert.equal(retry.status, 204, JSON.stringify(retry.body));
    await assertAppliedOnce(code, cb.id);
  });

  test('DynamoDB swallowing requests with 1.5 s of the function left: 500 FAIL before its deadline, not killed', async () => {
    const code = uniqueCode('SB');
    const cb = callback(h.keys, { resource: signedContract(code) });
    relay.swallow(true);
    // The SDK alone would give up after about 1.8 s (2 attempts of 0.9 s), past this invocation's end.
    const stuck = await h.invoke(cb, { isBase64Encoded: false, budgetMs: 1_500 });
    relay.swallow(false);
    assert.equal(stuck.status, 500, JSON.stringify(stuck.body));
    assert.deepEqual(stuck.body, { code: 'FAIL', message: 'could not store the notification; please retry' });
    assert.ok(stuck.ms < 1_500, `answered after ${stuck.ms.toFixed(0)} ms`);
    const retry = await h.deliver(resend(h.keys, cb));
    assert.equal(retry.status, 204, JSON.stringify(retry.body));
    await assertAppliedOnce(code, cb.id);
  });

  test('DynamoDB swallowing requests: 500 FAIL once the SDK gives up; then the retry is applied', async () => {
    const code = uniqueCode('SW');
    const cb = callback(h.keys, { resource: signedContract(code) });
    relay.swallow(true);
    const stuck = await h.deliver(cb);
    relay.swallow(false);
    console.log(
      `notify: answer with DynamoDB swallowing requests: ${stuck.status} after ${stuck.ms.toFixed(0)} ms ` +
        `(WeChat Pay waits 5000 ms)`,
    );
    assert.equal(stuck.status, 500, JSON.stringify(stuck.body));
    assert.equal(stuck.body?.code, 'FAIL');
    assert.equal(await h.contract(code), undefined, 'nothing half-applied');

    const retry = await h.deliver(resend(h.keys, cb));
    assert.equal(retry.status, 204, JSON.stringify(retry.body));
    await assertAppliedOnce(code, cb.id);
  });
});
