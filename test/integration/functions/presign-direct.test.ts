import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { handler } from '../../../functions/presign';
import { type KmsStandIn, startKmsStandIn } from '../../../infra/local/kms/server';
import { h5Body, PERSON } from '../../support/contracts/fixtures';
import { startTestStack, type TestStack } from '../../support/local/stack';
import { lambdaContext } from '../../support/wechatpay/callbacks';

// The presign Lambda invoked directly (Step Functions, other Lambdas): the event is the body, the result the
// plain presign result, and every failure an error whose `name` is what infra/aws/presign-workflow.asl.json
// matches in Retry/Catch. This file runs its own KMS stand-in so it can make KMS fail without touching the
// shared one.

const H5_PATH = '/v3/credit-repayment/partner/contracts/h5-presign';
const APP = '/contracts/app-presign';

describe('direct invocation of the presign function', () => {
  let stack: TestStack;
  let kms: KmsStandIn;

  const invoke = (event: unknown) =>
    handler(event, lambdaContext('presign')) as Promise<Record<string, unknown>>;

  /** The error a direct invocation throws, checked for the name and for personal data in its text. */
  async function failure(event: unknown, name: string): Promise<Error & Record<string, unknown>> {
    let thrown: unknown;
    try {
      await invoke(event);
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown instanceof Error, `expected ${name}, got ${JSON.stringify(thrown)}`);
    assert.equal(thrown.name, name, thrown.message);
    for (const secret of [PERSON.name, PERSON.id]) {
      assert.ok(!`${thrown.message}\n${thrown.stack}`.includes(secret), 'personal data in the error');
    }
    return thrown as Error & Record<string, unknown>;
  }

  const wechatCalls = (code: unknown) =>
    stack.simulator?.requests().filter((r) => r.url.endsWith('-presign') && r.body.includes(String(code)))
      .length;

  const stored = async (code: unknown) =>
    (await stack.scan('contracts')).find((i) => i.out_contract_code === code);

  before(async () => {
    kms = await startKmsStandIn();
    stack = await startTestStack({
      endpoints: { kms: kms.url, dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB },
    });
  });
  after(async () => {
    await stack?.close();
    await kms?.close();
  });

  test('success returns the plain result; the identical retry returns it again without calling WeChat Pay', async () => {
    const body = h5Body();
    const result = await invoke(body);
    assert.deepEqual(Object.keys(result).sort(), [
      'expires_at',
      'out_contract_code',
      'redirect_url',
      'state',
    ]);
    assert.equal(result.state, 'PRESIGNED');
    assert.equal(result.out_contract_code, body.out_contract_code);
    assert.deepEqual(await invoke(body), result);
    assert.equal(wechatCalls(body.out_contract_code), 1);
  });

  test('{"kind":"APP", …body} presigns through the APP API and returns presign_token', async () => {
    const body = h5Body();
    const result = await invoke({ kind: 'APP', ...body });
    assert.equal(result.state, 'PRESIGNED');
    assert.ok(result.presign_token);
    assert.equal(result.redirect_url, undefined);
    const error = await failure({ kind: 'MINI', ...h5Body() }, 'ValidationFailed');
    assert.deepEqual(error.errors, [{ field: '/kind', issue: 'must be "H5" or "APP"' }]);
  });

  test('POST /contracts/app-presign: replay, conflict, and no jump_info (what presign.test.ts leaves out)', async () => {
    const body = h5Body();
    const created = await stack.request('POST', APP, body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const replay = await stack.request('POST', APP, body);
    assert.equal(replay.status, 200);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replay.body, created.body);
    const conflict = await stack.request('POST', APP, { ...body, repayment_amount_limit: '5000' });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.code, 'CONTRACT_CODE_USED');
    assert.equal(conflict.body.state, 'PRESIGNED');
    assert.equal(wechatCalls(body.out_contract_code), 1);
    const withJump = h5Body({ jump_info: { jump_appid: 'wxd678efh567hg6787' } });
    const refused = await stack.request('POST', APP, withJump);
    assert.equal(refused.status, 400);
    assert.deepEqual(
      (refused.body.errors as { field: string }[]).map((e) => e.field),
      ['/jump_info'],
    );
    assert.equal(await stored(withJump.out_contract_code), undefined);
  });

  test('ValidationFailed names the fields; nothing is claimed', async () => {
    const body = h5Body({ repayment_day: 32 });
    const error = await failure(body, 'ValidationFailed');
    assert.deepEqual(
      (error.errors as { field: string }[]).map((e) => e.field),
      ['/repayment_day'],
    );
    assert.equal(await stored(body.out_contract_code), undefined);
    await failure('not an object', 'ValidationFailed');
  });

  test('ContractCodeUsed for another body on a used code, carrying its state', async () => {
    const body = h5Body();
    await invoke(body);
    const error = await failure({ ...body, repayment_amount_limit: '5000' }, 'ContractCodeUsed');
    assert.equal(error.state, 'PRESIGNED');
  });

  test('PresignInProgress while the identical request holds the claim; retrying it later replays', async () => {
    stack.simulator?.injectFault({ path: H5_PATH, count: 1, hang: true });
    const body = h5Body();
    const first = invoke(body);
    // Wait until the first invocation is stuck on WeChat Pay (its claim is written before the call).
    for (let i = 0; i < 200 && !stack.simulator?.requests().some((r) => r.fault === 'hang'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await failure(body, 'PresignInProgress');
    const result = await first;
    assert.equal(result.state, 'PRESIGNED');
    assert.deepEqual(await invoke(body), result, 'what a Step Functions Retry gets');
  });

  test('WechatPayRejected carries WeChat Pay’s status, code and Request-ID', async () => {
    stack.simulator?.injectFault({
      path: H5_PATH,
      count: 1,
      status: 403,
      body: { code: 'NO_AUTH', message: '商户无权限' },
    });
    const error = await failure(h5Body(), 'WechatPayRejected');
    const wechatpay = error.wechatpay as Record<string, unknown>;
    assert.equal(wechatpay.status, 403);
    assert.equal(wechatpay.code, 'NO_AUTH');
    assert.ok(wechatpay.request_id);
  });

  test('WechatPayUnavailable leaves the code PRESIGN_UNKNOWN, so retrying it only answers ContractCodeUsed', async () => {
    stack.simulator?.injectFault({ path: H5_PATH, count: 3, status: 503 });
    const body = h5Body();
    await failure(body, 'WechatPayUnavailable');
    assert.equal((await stored(body.out_contract_code))?.state, 'PRESIGN_UNKNOWN');
    const attempts = wechatCalls(body.out_contract_code);
    assert.equal(attempts, 3, 'the client retried the identical request itself');
    // Why the state machine catches WechatPayUnavailable instead of retrying it.
    const retry = await failure(body, 'ContractCodeUsed');
    assert.equal(retry.state, 'PRESIGN_UNKNOWN');
    assert.equal(wechatCalls(body.out_contract_code), attempts, 'the retry never reached WeChat Pay');
  });

  test('DependencyUnavailable while KMS fails; the identical retry resumes the claim and succeeds once KMS is back', async () => {
    kms.injectFault({ operation: 'Sign', count: 10, kind: 'unavailable' });
    const body = h5Body();
    const names: string[] = [];
    let result: Record<string, unknown> | undefined;
    for (let attempt = 0; attempt < 8 && !result; attempt++) {
      try {
        result = await invoke(body);
      } catch (error) {
        names.push((error as Error).name);
        assert.equal((await stored(body.out_contract_code))?.state, 'PRESIGNING');
      }
    }
    assert.ok(names.length >= 1, 'KMS failures reached the caller');
    assert.deepEqual(new Set(names), new Set(['DependencyUnavailable']));
    assert.equal(result?.state, 'PRESIGNED');
    assert.equal(wechatCalls(body.out_contract_code), 1);
    const record = await stored(body.out_contract_code);
    assert.equal(record?.state, 'PRESIGNED');
    assert.ok(kms.calls('Sign') >= 10);
  });
});
