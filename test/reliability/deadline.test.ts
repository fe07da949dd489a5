/**
 * Presign inside its own time: whatever WeChat Pay or DynamoDB do, the function answers, having recorded what it
 * knows, before Lambda would kill it. Direct invocations with a short Lambda budget (getRemainingTimeInMillis),
 * against the simulator and DynamoDB Local behind a proxy that can leave single calls unanswered.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { handler as presignHandler } from '../../functions/presign';
import { DependencyUnavailable, WechatPayUnavailable } from '../../lib/errors';
import { type DynamoDbProxy, startDynamoDbProxy } from '../support/aws/dynamodb-proxy';
import { h5Body } from '../support/contracts/fixtures';
import { startTestStack, type TestStack } from '../support/local/stack';
import { lambdaContext } from './helpers/lambda';
import { recordOf } from './helpers/records';
import { H5_PRESIGN, presignCalls } from './helpers/wechatpay';

describe('presign inside its own time', () => {
  let proxy: DynamoDbProxy;
  let stack: TestStack;

  before(async () => {
    const upstream = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    if (!upstream) throw new Error('test/run.ts provides DynamoDB Local');
    proxy = await startDynamoDbProxy(upstream);
    // WeChat Pay's deployed per-attempt timeout: three hanging attempts alone would outlast the budgets below.
    stack = await startTestStack({
      endpoints: { dynamodb: proxy.endpoint },
      env: { WECHATPAY_TIMEOUT_MS: '5000' },
    });
  });
  after(async () => {
    await stack?.close();
    await proxy?.close();
  });

  const simulator = () => {
    if (!stack.simulator) throw new Error('the test stack runs the simulator');
    return stack.simulator;
  };
  const tables = () => ({ db: stack.db, env: stack.env });

  /** Invokes presign with `budgetMs` left; resolves with its result or error and how long it took. */
  async function invoke(body: Record<string, unknown>, budgetMs: number) {
    const started = Date.now();
    const outcome = await presignHandler(body, lambdaContext('presign', budgetMs)).then(
      (result: unknown) => ({ result, error: undefined }),
      (error: unknown) => ({ result: undefined, error }),
    );
    return { ...outcome, elapsedMs: Date.now() - started };
  }

  test('DynamoDB hanging at the claim: 503 DEPENDENCY_UNAVAILABLE before the deadline, WeChat Pay never called', async () => {
    const body = h5Body();
    const code = String(body.out_contract_code);
    proxy.arm({ operation: 'PutItem', bodyIncludes: code, action: { kind: 'hang' }, count: 3 });
    const { error, elapsedMs } = await invoke(body, 5000);
    assert.ok(error instanceof DependencyUnavailable, String(error));
    assert.ok(elapsedMs < 5000, `answered after ${elapsedMs} ms of a 5000 ms budget`);
    assert.equal(presignCalls(simulator(), code).length, 0);
  });

  test('DynamoDB hanging after WeChat Pay accepted: the link is answered before the deadline', async () => {
    const body = h5Body();
    const code = String(body.out_contract_code);
    proxy.arm({ operation: 'UpdateItem', bodyIncludes: code, action: { kind: 'hang' }, count: 3 });
    const { result, error, elapsedMs } = await invoke(body, 5000);
    assert.equal(error, undefined, String(error));
    assert.match(String((result as { redirect_url?: string }).redirect_url), /\/sign\?token=/);
    assert.ok(elapsedMs < 5000, `answered after ${elapsedMs} ms of a 5000 ms budget`);
    assert.equal((await recordOf(tables(), code))?.state, 'PRESIGNING', 'the claim stays for the callback');
  });

  test('WeChat Pay hanging: presign stops sending in time and records PRESIGN_UNKNOWN before its deadline', async () => {
    // Last in this file: the attempts the budget leaves unsent keep their hang armed.
    simulator().injectFault({ path: H5_PRESIGN, count: 3, hang: true });
    const body = h5Body();
    const code = String(body.out_contract_code);
    const { error, elapsedMs } = await invoke(body, 8000);
    assert.ok(error instanceof WechatPayUnavailable, String(error));
    assert.ok(elapsedMs < 8000, `answered after ${elapsedMs} ms of an 8000 ms budget`);
    assert.equal((await recordOf(tables(), code))?.state, 'PRESIGN_UNKNOWN', 'recorded before the deadline');
  });
});
