/**
 * Claims recognised as one's own: a presign's writes that DynamoDB committed but whose answers were lost (the SDK
 * retried them and met its own item), and claims whose owner died. The stack talks to DynamoDB Local through a
 * proxy that holds, hangs or refuses single calls; WeChat Pay is the simulator, KMS the stand-in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomApiV3Key, randomRequestHashKey } from '../../infra/local/keys';
import { type DynamoDbProxy, startDynamoDbProxy } from '../support/aws/dynamodb-proxy';
import { h5Body } from '../support/contracts/fixtures';
import { startTestStack, type TestStack } from '../support/local/stack';
import { backdate, recordOf } from './helpers/records';
import { H5_PRESIGN, presignCalls } from './helpers/wechatpay';

const H5 = '/contracts/h5-presign';
/** Past the DynamoDB client's 2 s request timeout, so the SDK gives up on the answer and retries. */
const PAST_REQUEST_TIMEOUT_MS = 2500;
/** Past the lease of a claim: the presign function's 29 s timeout, 10 s for clocks, and a margin. */
const LEASE_MS = 40_000;

describe('claims recognised as our own', () => {
  let proxy: DynamoDbProxy;
  let stack: TestStack;

  before(async () => {
    const upstream = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    if (!upstream) throw new Error('test/run.ts provides DynamoDB Local');
    proxy = await startDynamoDbProxy(upstream);
    stack = await startTestStack({ endpoints: { dynamodb: proxy.endpoint } });
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

  test('a claim whose answer came after the SDK gave up: the retry meets our own item, 201 and one WeChat Pay call', async () => {
    const body = h5Body();
    const code = String(body.out_contract_code);
    proxy.arm({
      operation: 'PutItem',
      bodyIncludes: code,
      action: { kind: 'hold', ms: PAST_REQUEST_TIMEOUT_MS },
    });
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(proxy.calls('PutItem', code), 2, 'the SDK retried the put that had landed');
    assert.equal(presignCalls(simulator(), code).length, 1);
    assert.equal((await recordOf(tables(), code))?.state, 'PRESIGNED');
    const again = await stack.request('POST', H5, body);
    assert.equal(again.status, 200, 'the identical retry replays');
  });

  test('a resume whose answer came after the SDK gave up: the identical retry still reaches WeChat Pay, 201', async () => {
    const body = h5Body();
    const code = String(body.out_contract_code);
    // Every attempt refused unprocessed (429): the code stays resumable by the identical request.
    simulator().injectFault({ path: H5_PRESIGN, count: 3, status: 429 });
    const first = await stack.request('POST', H5, body);
    assert.equal(first.status, 503, JSON.stringify(first.body));
    assert.equal((await recordOf(tables(), code))?.local_failure, true);

    proxy.arm({
      operation: 'UpdateItem',
      bodyIncludes: code,
      action: { kind: 'hold', ms: PAST_REQUEST_TIMEOUT_MS },
    });
    const retry = await stack.request('POST', H5, body);
    assert.equal(retry.status, 201, JSON.stringify(retry.body));
    assert.deepEqual(
      presignCalls(simulator(), code).map((c) => c.status),
      [429, 429, 429, 200],
    );
    assert.equal((await recordOf(tables(), code))?.state, 'PRESIGNED');
  });

  /** An attempt that dies holding the claim: WeChat Pay answers as `fault` says, then no update reaches DynamoDB. */
  async function dieHoldingTheClaim(
    body: Record<string, unknown>,
    fault: { status: number } | { drop: true },
  ) {
    const code = String(body.out_contract_code);
    simulator().injectFault({ path: H5_PRESIGN, count: 'drop' in fault ? 1 : 3, ...fault });
    proxy.arm({ operation: 'UpdateItem', bodyIncludes: code, action: { kind: 'fail' }, count: 3 });
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 503, JSON.stringify(res.body));
    const record = await recordOf(tables(), code);
    assert.equal(record?.state, 'PRESIGNING', 'its outcome never reached the record');
    assert.notEqual(record?.local_failure, true);
  }

  test('a claim whose owner died: the identical retry waits out the lease, then takes it over: 201', async () => {
    const body = h5Body();
    const code = String(body.out_contract_code);
    await dieHoldingTheClaim(body, { status: 429 });
    const early = await stack.request('POST', H5, body);
    assert.equal(early.status, 409, 'within the lease the claim is still its owner’s');
    assert.equal(early.body.code, 'PRESIGN_IN_PROGRESS');

    await backdate(tables(), code, LEASE_MS);
    const other = await stack.request('POST', H5, { ...body, repayment_amount_limit: '20000' });
    assert.equal(other.status, 409, 'another body never takes a claim over');
    assert.equal(other.body.code, 'CONTRACT_CODE_USED');
    const retry = await stack.request('POST', H5, body);
    assert.equal(retry.status, 201, JSON.stringify(retry.body));
    assert.equal((await recordOf(tables(), code))?.state, 'PRESIGNED');
    assert.equal(presignCalls(simulator(), code).at(-1)?.status, 200);
  });

  test('a claim whose owner died after reaching WeChat Pay: the takeover refused as "code used" proves nothing: 503, PRESIGN_UNKNOWN', async () => {
    const body = h5Body();
    const code = String(body.out_contract_code);
    await dieHoldingTheClaim(body, { drop: true });
    await backdate(tables(), code, LEASE_MS);
    const retry = await stack.request('POST', H5, body);
    assert.equal(retry.status, 503, JSON.stringify(retry.body));
    assert.equal(retry.body.code, 'WECHATPAY_UNAVAILABLE');
    assert.equal(presignCalls(simulator(), code).at(-1)?.code, 'INVALID_REQUEST');
    assert.equal((await recordOf(tables(), code))?.state, 'PRESIGN_UNKNOWN', 'not PRESIGN_FAILED');
  });

  /** Runs `work` with the service's environment changed by `change` (unset: undefined), then restores it. */
  async function withEnv<T>(change: Record<string, string | undefined>, work: () => Promise<T>): Promise<T> {
    const saved = Object.fromEntries(Object.keys(change).map((k) => [k, process.env[k]]));
    const apply = (values: Record<string, string | undefined>) => {
      for (const [k, v] of Object.entries(values)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    };
    apply(change);
    try {
      return await work();
    } finally {
      apply(saved);
    }
  }

  test('the APIv3 key reset in the merchant portal: the identical retry still replays (the request hash has its own key)', async () => {
    const body = h5Body();
    assert.equal((await stack.request('POST', H5, body)).status, 201);
    const again = await withEnv({ WECHATPAY_APIV3_KEY: randomApiV3Key() }, () =>
      stack.request('POST', H5, body),
    );
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
  });

  test('REQUEST_HASH_KEY rotated with put-secret-value and REQUEST_HASH_KEY_PREVIOUS=AWSPREVIOUS: the identical retry replays; with it dropped, a conflict', async () => {
    const body = h5Body();
    assert.equal((await stack.request('POST', H5, body)).status, 201);
    const secret = String(stack.env.REQUEST_HASH_KEY);
    // The runbook (docs/deploy.md, section 9): the new value goes into the same secret, the old one stays as its
    // AWSPREVIOUS version. A one-second cache age lets the functions see it after a second instead of 300.
    stack.extension.putSecret(secret, randomRequestHashKey());
    const fresh = { KEY_MATERIAL_MAX_AGE_S: '1' };
    await sleep(1100);
    const during = await withEnv({ ...fresh, REQUEST_HASH_KEY_PREVIOUS: 'AWSPREVIOUS' }, () =>
      stack.request('POST', H5, body),
    );
    assert.equal(during.status, 200, JSON.stringify(during.body));
    assert.ok(stack.extension.requests.includes(`/secretsmanager/get ${secret} AWSPREVIOUS 200`));
    const afterwards = await withEnv(fresh, () => stack.request('POST', H5, body));
    assert.equal(afterwards.status, 409, 'without the previous key the old hash is someone else’s');
    assert.equal(afterwards.body.code, 'CONTRACT_CODE_USED');
  });
});
