/**
 * Fault matrix (README "What we promise and how it is tested"): each way WeChat Pay, KMS, DynamoDB or the event
 * publisher can fail around a presign, and what the caller and the record see. One stack on this file's own
 * DynamoDB Local (behind a TCP proxy that can cut it off) and its own KMS stand-in, since faults must never reach
 * the shared ones.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { handler as reconcileHandler } from '../../functions/reconcile';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../infra/local/dynamodb';
import { type KmsStandIn, startKmsStandIn } from '../../infra/local/kms/server';
import type { Simulator } from '../../infra/local/simulator';
import type { ReconcileReport } from '../../lib/contracts/reconcile';
import { h5Body } from '../support/contracts/fixtures';
import { startTestStack, type TestStack } from '../support/local/stack';
import { lambdaContext } from './helpers/lambda';
import { CrashingPublisher } from './helpers/publisher';
import { backdate, recordOf, type Tables } from './helpers/records';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy';
import { callbacksSettled, eventually, H5_PRESIGN, presignCalls, tokenOf } from './helpers/wechatpay';

const H5 = '/contracts/h5-presign';
/** Past the 10-minute token and reconcile's 2-minute grace: "no contract" now means EXPIRED. */
const AFTER_LAPSE_MS = 13 * 60_000;

describe('fault matrix', () => {
  let dynamodb: DynamoDbLocal;
  let proxy: TcpProxy;
  let kms: KmsStandIn;
  let kmsDir: string;
  let stack: TestStack;
  let simulator: Simulator;
  let tables: Tables;
  const publisher = new CrashingPublisher();

  const startStack = async () => {
    stack = await startTestStack({ endpoints: { dynamodb: proxy.endpoint, kms: kms.url }, publisher });
    if (!stack.simulator) throw new Error('the test stack runs the simulator');
    simulator = stack.simulator;
    // stack.db talks to the shared DynamoDB Local; these tables live in ours.
    tables.env = stack.env;
  };
  const reconcile = async (): Promise<ReconcileReport> =>
    (await reconcileHandler({ limit: 100 }, lambdaContext('reconcile'))) as ReconcileReport;
  const published = (code: string, type: string) =>
    publisher.published.filter((e) => e.detail.out_contract_code === code && e.type === type);

  before(async () => {
    kmsDir = await mkdtemp(join(tmpdir(), 'faults-kms-'));
    [dynamodb, kms] = await Promise.all([startDynamoDbLocal(), startKmsStandIn({ dataDir: kmsDir })]);
    proxy = await startTcpProxy(dynamodb.port);
    tables = {
      db: DynamoDBDocumentClient.from(
        new DynamoDBClient({
          endpoint: dynamodb.endpoint,
          region: 'ap-southeast-1',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }),
      ),
      env: {},
    };
    await startStack();
  });
  after(async () => {
    await stack?.close();
    tables?.db.destroy();
    await proxy?.close();
    await Promise.all([kms?.close(), dynamodb?.stop()]);
    if (kmsDir) await rm(kmsDir, { recursive: true, force: true });
  });

  test('WeChat Pay 500 once, then success: 201 after one retry of the identical body', async () => {
    simulator.injectFault({ path: H5_PRESIGN, count: 1, status: 500 });
    const body = h5Body();
    const code = String(body.out_contract_code);
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const calls = presignCalls(simulator, code);
    assert.deepEqual(
      calls.map((c) => c.status),
      [500, 200],
    );
    assert.equal(calls[1]?.body, calls[0]?.body, 'the retry resent the identical body');
    assert.notEqual(calls[1]?.headers.authorization, calls[0]?.headers.authorization, 'freshly signed');
    assert.equal((await recordOf(tables, code))?.state, 'PRESIGNED');
  });

  test('WeChat Pay hanging past the timeout: 503 WECHATPAY_UNAVAILABLE, PRESIGN_UNKNOWN, code kept; reconcile settles EXPIRED', async () => {
    simulator.injectFault({ path: H5_PRESIGN, count: 3, hang: true });
    const body = h5Body();
    const code = String(body.out_contract_code);
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.code, 'WECHATPAY_UNAVAILABLE');
    assert.equal(presignCalls(simulator, code).length, 3, 'three attempts, each timed out');
    assert.equal((await recordOf(tables, code))?.state, 'PRESIGN_UNKNOWN');
    const again = await stack.request('POST', H5, body);
    assert.equal(again.status, 409, 'the code is never released');
    assert.equal(again.body.state, 'PRESIGN_UNKNOWN');

    await backdate(tables, code, AFTER_LAPSE_MS);
    await reconcile();
    assert.equal((await recordOf(tables, code))?.state, 'EXPIRED');
  });

  test('WeChat Pay 429 on every attempt: 503 WECHATPAY_UNAVAILABLE with its Retry-After, waited between attempts; the identical retry resumes the code: 201', async () => {
    simulator.injectFault({ path: H5_PRESIGN, count: 3, status: 429, retryAfter: 2 });
    const body = h5Body();
    const code = String(body.out_contract_code);
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.code, 'WECHATPAY_UNAVAILABLE');
    assert.equal(res.headers.get('retry-after'), '2');
    const calls = presignCalls(simulator, code);
    assert.deepEqual(
      calls.map((c) => c.status),
      [429, 429, 429],
    );
    const gaps = calls.slice(1).map((c, i) => Date.parse(c.at) - Date.parse(calls[i]?.at ?? ''));
    assert.ok(
      gaps.every((ms) => ms >= 2000),
      `each retry waited WeChat Pay's Retry-After: ${gaps}`,
    );
    const record = await recordOf(tables, code);
    assert.equal(record?.state, 'PRESIGNING', 'nothing that burns the code');
    assert.equal(record?.local_failure, true);

    const retry = await stack.request('POST', H5, body);
    assert.equal(retry.status, 201, JSON.stringify(retry.body));
    assert.equal((await recordOf(tables, code))?.state, 'PRESIGNED');
  });

  test('WeChat Pay 202 (accepted, not processed): the identical body is sent again, 201', async () => {
    simulator.injectFault({ path: H5_PRESIGN, count: 1, status: 202 });
    const body = h5Body();
    const code = String(body.out_contract_code);
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const calls = presignCalls(simulator, code);
    assert.deepEqual(
      calls.map((c) => c.status),
      [202, 200],
    );
    assert.equal(calls[1]?.body, calls[0]?.body, 'the identical body');
    assert.equal((await recordOf(tables, code))?.state, 'PRESIGNED');
  });

  test('WeChat Pay 500, then 429 twice: one attempt may have been processed, so 503 and PRESIGN_UNKNOWN', async () => {
    simulator.injectFault({ path: H5_PRESIGN, count: 1, status: 500 });
    simulator.injectFault({ path: H5_PRESIGN, count: 2, status: 429 });
    const body = h5Body();
    const code = String(body.out_contract_code);
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.code, 'WECHATPAY_UNAVAILABLE');
    assert.equal((await recordOf(tables, code))?.state, 'PRESIGN_UNKNOWN');
    const again = await stack.request('POST', H5, body);
    assert.equal(again.status, 409, 'the code is never released');
  });

  test('WeChat Pay 200 whose verified body is not JSON: 503 WECHATPAY_UNAVAILABLE and PRESIGN_UNKNOWN, not PRESIGN_FAILED', async () => {
    simulator.injectFault({ path: H5_PRESIGN, count: 1, status: 200, raw: '<html>ok</html>' });
    const body = h5Body();
    const code = String(body.out_contract_code);
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.code, 'WECHATPAY_UNAVAILABLE');
    assert.equal(presignCalls(simulator, code).length, 1, 'not resent: WeChat Pay probably accepted it');
    assert.equal((await recordOf(tables, code))?.state, 'PRESIGN_UNKNOWN');
  });

  test('WeChat Pay answering 2 s after it issued the token: expires_at is counted from before the send, never after the token lapses', async () => {
    simulator.injectFault({ path: H5_PRESIGN, count: 1, delayMs: 2000 });
    process.env.WECHATPAY_TIMEOUT_MS = '5000';
    const body = h5Body();
    const code = String(body.out_contract_code);
    let res: Awaited<ReturnType<TestStack['request']>>;
    try {
      res = await stack.request('POST', H5, body);
    } finally {
      process.env.WECHATPAY_TIMEOUT_MS = stack.env.WECHATPAY_TIMEOUT_MS;
    }
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const contract = simulator.contracts().find((c) => c.out_contract_code === code);
    // WeChat Pay's expiry is whole seconds, cut down from the moment it issued the token.
    const lapses = Date.parse(String(contract?.token_expires_at)) + 1000;
    assert.ok(
      Date.parse(String(res.body.expires_at)) < lapses,
      `${res.body.expires_at} is before the token lapses (${contract?.token_expires_at})`,
    );
    assert.equal((await recordOf(tables, code))?.expires_at, res.body.expires_at);
  });

  test('connection dropped after WeChat Pay accepted: 503, PRESIGN_UNKNOWN (not FAILED); reconcile settles EXPIRED once the token lapsed', async () => {
    simulator.injectFault({ path: H5_PRESIGN, count: 1, drop: true });
    const body = h5Body();
    const code = String(body.out_contract_code);
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.code, 'WECHATPAY_UNAVAILABLE');
    // The retry met WeChat Pay's "code already used": proof the first attempt landed, not a rejection.
    assert.deepEqual(
      presignCalls(simulator, code).map((c) => c.fault ?? c.code),
      ['drop', 'INVALID_REQUEST'],
    );
    assert.equal(simulator.contracts().find((c) => c.out_contract_code === code)?.state, 'PRESIGNED');
    assert.equal((await recordOf(tables, code))?.state, 'PRESIGN_UNKNOWN');

    await reconcile();
    assert.equal(
      (await recordOf(tables, code))?.state,
      'PRESIGN_UNKNOWN',
      'not EXPIRED while the token is open',
    );
    await backdate(tables, code, AFTER_LAPSE_MS);
    await reconcile();
    assert.equal((await recordOf(tables, code))?.state, 'EXPIRED');
    await stack.drainEvents();
    assert.equal(published(code, 'ContractExpired').length, 1);
  });

  test('connection dropped after WeChat Pay accepted, the user signed anyway and the callback was lost: reconcile settles SIGNED', async () => {
    simulator.injectFault({ path: H5_PRESIGN, count: 1, drop: true });
    const body = h5Body();
    const code = String(body.out_contract_code);
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal((await recordOf(tables, code))?.state, 'PRESIGN_UNKNOWN');

    // We never got the redirect_url, but WeChat Pay has the contract and its signing page works.
    await sandbox(simulator, '/sandbox/drop-callbacks', { count: 1 });
    await simulator.agree(tokenOf(simulator, code));
    assert.equal(simulator.callbacks().find((c) => c.out_contract_code === code)?.state, 'dropped');
    // Reconcile's turn (it looks at contracts whose token lapsed); WeChat Pay's word is SIGNED, which wins.
    await backdate(tables, code, AFTER_LAPSE_MS);
    await reconcile();
    const record = await recordOf(tables, code);
    assert.equal(record?.state, 'SIGNED');
    const contract = simulator.contracts().find((c) => c.out_contract_code === code);
    assert.equal(record?.contract_id, contract?.contract_id);
    await stack.drainEvents();
    assert.equal(published(code, 'ContractSigned').length, 1);
  });

  test('KMS throttling that clears within the SDK retries: 201', async () => {
    const before = kms.calls('Sign');
    kms.injectFault({ operation: 'Sign', count: 2, kind: 'throttle' });
    const body = h5Body();
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(kms.calls('Sign') - before, 3, 'two throttled Sign calls, then one that succeeded');
  });

  test('KMS throttling that persists: 503 DEPENDENCY_UNAVAILABLE, WeChat Pay never called; the identical retry resumes the code: 201', async () => {
    const before = kms.calls('Sign');
    kms.injectFault({ operation: 'Sign', count: 3, kind: 'throttle' });
    const body = h5Body();
    const code = String(body.out_contract_code);
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.code, 'DEPENDENCY_UNAVAILABLE');
    // Strangers learn that much and no more: no SDK error text, no key id (the log line has them).
    assert.doesNotMatch(JSON.stringify(res.body), /ThrottlingException|alias\/|arn:/);
    assert.equal(kms.calls('Sign') - before, 3, 'the SDK tried three times, backing off');
    assert.equal(presignCalls(simulator, code).length, 0, 'WeChat Pay never called');
    const record = await recordOf(tables, code);
    assert.equal(record?.state, 'PRESIGNING');
    assert.equal(record?.local_failure, true);

    const retry = await stack.request('POST', H5, body);
    assert.equal(retry.status, 201, JSON.stringify(retry.body));
    assert.equal(presignCalls(simulator, code).length, 1);
  });

  test('KMS stand-in stopped, then restarted: 503 DEPENDENCY_UNAVAILABLE while down and WeChat Pay never called; 201 after', async () => {
    await kms.close();
    const body = h5Body();
    const code = String(body.out_contract_code);
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.code, 'DEPENDENCY_UNAVAILABLE');
    assert.equal(presignCalls(simulator, code).length, 0);

    // Same port, same key material (kept on disk, as KMS keeps it).
    kms = await startKmsStandIn({ port: kms.port, dataDir: kmsDir });
    const retry = await stack.request('POST', H5, body);
    assert.equal(retry.status, 201, JSON.stringify(retry.body));
    assert.equal(presignCalls(simulator, code).length, 1);
  });

  test('DynamoDB unreachable right after WeChat Pay accepted: 201 with redirect_url; the record is kept and the callback after DynamoDB returns settles SIGNED', async () => {
    const body = h5Body();
    const code = String(body.out_contract_code);
    const realFetch = globalThis.fetch;
    // The WeChat Pay client resolves fetch per call: cut DynamoDB the moment WeChat Pay's answer arrives,
    // after the claim and before the record is updated.
    globalThis.fetch = async (input, init) => {
      const response = await realFetch(input, init);
      if (String(input).startsWith(simulator.url) && String(input).endsWith('-presign')) await proxy.cut();
      return response;
    };
    let res: Awaited<ReturnType<TestStack['request']>>;
    try {
      res = await stack.request('POST', H5, body);
    } finally {
      globalThis.fetch = realFetch;
      await proxy.restore();
    }
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.match(String(res.body.redirect_url), /\/sign\?token=/);
    const kept = await recordOf(tables, code);
    assert.equal(kept?.state, 'PRESIGNING', 'the claim survived; only the update was lost');

    const token = new URL(String(res.body.redirect_url)).searchParams.get('token') ?? '';
    await simulator.agree(token);
    await callbacksSettled(simulator, [code]);
    const record = await recordOf(tables, code);
    assert.equal(record?.state, 'SIGNED');
    assert.equal(
      record?.contract_id,
      simulator.contracts().find((c) => c.out_contract_code === code)?.contract_id,
    );
    await stack.drainEvents();
    assert.equal(published(code, 'ContractSigned').length, 1);
  });

  test('crash between the commit and the event publish: the event still goes out, one event_id', async () => {
    const [lost, repeated] = [h5Body(), h5Body()];
    const lostCode = String(lost.out_contract_code);
    const repeatedCode = String(repeated.out_contract_code);
    publisher.crash(lostCode, 'before-publish', 3);
    publisher.crash(repeatedCode, 'after-publish', 1);
    assert.equal((await stack.request('POST', H5, lost)).status, 201);
    assert.equal((await stack.request('POST', H5, repeated)).status, 201);
    await eventually('both events published', () =>
      [lostCode, repeatedCode].every((code) => published(code, 'ContractPresigned').length > 0),
    );
    await stack.drainEvents();

    // Crashed before PutEvents three times: redelivered from the stream until it went out, exactly once.
    assert.equal(published(lostCode, 'ContractPresigned').length, 1);
    // Crashed after PutEvents: delivered again (at-least-once); consumers de-duplicate by event_id.
    const twice = published(repeatedCode, 'ContractPresigned');
    assert.equal(twice.length, 2);
    assert.equal(new Set(twice.map((e) => e.detail.event_id)).size, 1);
  });

  test('DynamoDB Local stopped before the claim: 503 DEPENDENCY_UNAVAILABLE and WeChat Pay never called; after a restart the identical request succeeds', async () => {
    const body = h5Body();
    const code = String(body.out_contract_code);
    const requestsBefore = simulator.requests().length;
    await dynamodb.stop();
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.code, 'DEPENDENCY_UNAVAILABLE');
    assert.doesNotMatch(JSON.stringify(res.body), /ECONNREFUSED|127\.0\.0\.1|arn:/);
    assert.equal(simulator.requests().length, requestsBefore, 'WeChat Pay received nothing');

    // DynamoDB Local keeps its data in memory, so a restart starts empty: the tables are created again.
    await dynamodb.start();
    await stack.close();
    await startStack();
    const retry = await stack.request('POST', H5, body);
    assert.equal(retry.status, 201, JSON.stringify(retry.body));
    assert.equal(presignCalls(simulator, code).length, 1);
  });
});

async function sandbox(simulator: Simulator, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${simulator.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
}
