import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { h5Body, PERSON } from '../../support/contracts/fixtures';
import { startTestStack, type TestStack } from '../../support/local/stack';

const H5 = '/contracts/h5-presign';
const APP = '/contracts/app-presign';

describe('presign through the local gateway, DynamoDB Local, the KMS stand-in and the simulator', () => {
  let stack: TestStack;
  const wechatCalls = (code: unknown) =>
    stack.simulator?.requests().filter((r) => r.url.endsWith('-presign') && r.body.includes(String(code)))
      .length;

  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.close();
  });

  test('201 with redirect_url; the simulator verified our KMS signature and decrypted the identity', async () => {
    const body = h5Body();
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.state, 'PRESIGNED');
    assert.match(String(res.body.redirect_url), /^http:\/\/127\.0\.0\.1:\d+\/sign\?token=/);
    const expires = Date.parse(String(res.body.expires_at));
    assert.ok(Math.abs(expires - (Date.now() + 600_000)) < 30_000, 'expires about 10 minutes from now');
    const contract = stack.simulator?.contracts().find((c) => c.out_contract_code === body.out_contract_code);
    assert.equal(contract?.state, 'PRESIGNED');
    const items = await stack.scan('contracts');
    const item = items.find((i) => i.out_contract_code === body.out_contract_code);
    assert.equal(item?.state, 'PRESIGNED');
    assert.equal(item?.redirect_url, res.body.redirect_url);
  });

  test('an identical retry answers 200 Idempotent-Replayed with the same body and no WeChat Pay call', async () => {
    const body = h5Body();
    const first = await stack.request('POST', H5, body);
    const again = await stack.request('POST', H5, body);
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.body, first.body);
    assert.equal(wechatCalls(body.out_contract_code), 1);
  });

  test('another body for a used code gets 409 CONTRACT_CODE_USED with its state', async () => {
    const body = h5Body();
    await stack.request('POST', H5, body);
    const res = await stack.request('POST', H5, { ...body, repayment_amount_limit: '5000' });
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'CONTRACT_CODE_USED');
    assert.equal(res.body.state, 'PRESIGNED');
  });

  test('a bad field gets 400 naming it, and nothing is written', async () => {
    const body = h5Body({ repayment_day: 32 });
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'VALIDATION_FAILED');
    assert.deepEqual(
      (res.body.errors as { field: string }[]).map((e) => e.field),
      ['/repayment_day'],
    );
    const items = await stack.scan('contracts');
    assert.equal(items.filter((i) => i.out_contract_code === body.out_contract_code).length, 0);
  });

  test('WeChat Pay 4xx: 502 WECHATPAY_REJECTED with its code and Request-ID; the code is burnt', async () => {
    stack.simulator?.injectFault({
      path: '/v3/credit-repayment/partner/contracts/h5-presign',
      count: 1,
      status: 403,
      body: { code: 'NO_AUTH', message: '商户无权限' },
    });
    const body = h5Body();
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 502, JSON.stringify(res.body));
    assert.equal(res.body.code, 'WECHATPAY_REJECTED');
    const wechatpay = res.body.wechatpay as Record<string, unknown>;
    assert.equal(wechatpay.status, 403);
    assert.equal(wechatpay.code, 'NO_AUTH');
    assert.ok(wechatpay.request_id, 'carries the Request-ID');
    const retry = await stack.request('POST', H5, body);
    assert.equal(retry.status, 409);
    assert.equal(retry.body.state, 'PRESIGN_FAILED');
  });

  test('WeChat Pay 500 once, then success: retried with the same body, 201', async () => {
    stack.simulator?.injectFault({
      path: '/v3/credit-repayment/partner/contracts/h5-presign',
      count: 1,
      status: 500,
    });
    const body = h5Body();
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });

  test('WeChat Pay 5xx past the retries: 503 WECHATPAY_UNAVAILABLE and PRESIGN_UNKNOWN', async () => {
    stack.simulator?.injectFault({
      path: '/v3/credit-repayment/partner/contracts/h5-presign',
      count: 3,
      status: 503,
    });
    const body = h5Body();
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 503);
    assert.equal(res.body.code, 'WECHATPAY_UNAVAILABLE');
    const item = (await stack.scan('contracts')).find((i) => i.out_contract_code === body.out_contract_code);
    assert.equal(item?.state, 'PRESIGN_UNKNOWN');
  });

  test('WeChat Pay hanging past the timeout: 503 and PRESIGN_UNKNOWN', async () => {
    stack.simulator?.injectFault({
      path: '/v3/credit-repayment/partner/contracts/h5-presign',
      count: 3,
      hang: true,
    });
    const body = h5Body();
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 503);
    assert.equal(res.body.code, 'WECHATPAY_UNAVAILABLE');
  });

  test('APP presign returns presign_token; replay and conflict behave as for H5', async () => {
    const { jump_info: _none, ...body } = h5Body();
    const res = await stack.request('POST', APP, body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.ok(res.body.presign_token);
    assert.equal(res.body.redirect_url, undefined);
    assert.equal((await stack.request('POST', APP, body)).status, 200);
    assert.equal(
      (await stack.request('POST', H5, body)).status,
      409,
      'the same body on the H5 route is another request',
    );
  });

  test('50 concurrent presigns of one code: one WeChat Pay call, one 201, the rest replays or in-progress', async () => {
    const body = h5Body();
    const answers = await Promise.all(Array.from({ length: 50 }, () => stack.request('POST', H5, body)));
    const statuses = answers.map((a) => a.status);
    assert.equal(statuses.filter((s) => s === 201).length, 1, JSON.stringify(statuses));
    for (const a of answers.filter((x) => x.status !== 201)) {
      assert.ok(a.status === 200 || a.body.code === 'PRESIGN_IN_PROGRESS', JSON.stringify(a.body));
    }
    assert.equal(wechatCalls(body.out_contract_code), 1);
  });

  test('no plaintext name or ID number in any stored item', async () => {
    const dump = JSON.stringify(await stack.scan('contracts'));
    assert.ok(dump.length > 100);
    assert.ok(!dump.includes(PERSON.id), 'identity_id leaked');
    assert.ok(!dump.includes(PERSON.name), 'real_name leaked');
  });
});
