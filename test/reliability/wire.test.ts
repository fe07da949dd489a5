/**
 * What WeChat Pay receives from a presign, where its own pages leave a choice or a gap: the mask of a
 * one-character name, the APP presign's sub-merchant field name (a setting; this stack names it
 * `sub_merchant_code`, and its simulator accepts only that), and where a sign-and-repay flow's repayment result goes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { h5Body, residentId } from '../support/contracts/fixtures';
import { startTestStack, type TestStack } from '../support/local/stack';
import { presignCalls } from './helpers/wechatpay';

const H5 = '/contracts/h5-presign';
const APP = '/contracts/app-presign';

describe('what WeChat Pay receives from a presign', () => {
  let stack: TestStack;

  before(async () => {
    stack = await startTestStack({ env: { WECHATPAY_APP_SUB_MCHID_FIELD: 'sub_merchant_code' } });
  });
  after(async () => {
    await stack?.close();
  });

  const simulator = () => {
    if (!stack.simulator) throw new Error('the test stack runs the simulator');
    return stack.simulator;
  };
  const sentBody = (code: unknown) =>
    JSON.parse(presignCalls(simulator(), String(code)).at(-1)?.body ?? '{}') as Record<string, unknown>;

  test('a one-character real name is masked as itself: 201, and WeChat Pay checks that mask', async () => {
    const body = h5Body({
      display_name: '伟',
      real_identity: {
        identity_type: 'REAL_IDENTITY_TYPE_ID_CARD',
        identity_id: residentId('11010519491231003'),
        real_name: '伟',
      },
    });
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const contract = simulator()
      .contracts()
      .find((c) => c.out_contract_code === body.out_contract_code);
    assert.equal(contract?.display_name, '伟');
    assert.equal(contract?.real_identity_verified, true);
  });

  test('the APP presign names the sub-merchant as configured (sub_merchant_code), which WeChat Pay accepts: 201', async () => {
    const { jump_info: _none, ...body } = h5Body();
    const res = await stack.request('POST', APP, body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const sent = sentBody(body.out_contract_code);
    assert.equal(sent.sub_merchant_code, body.sub_mchid);
    assert.equal('sub_mchid' in sent, false);
    const contract = simulator()
      .contracts()
      .find((c) => c.out_contract_code === body.out_contract_code);
    assert.equal(contract?.sub_mchid, body.sub_mchid);
  });

  test('a WeChat Pay that expects the other name refuses sub_mchid on the APP presign: the setting decides', async () => {
    const { jump_info: _none, ...body } = h5Body();
    const previous = process.env.WECHATPAY_APP_SUB_MCHID_FIELD;
    process.env.WECHATPAY_APP_SUB_MCHID_FIELD = 'sub_mchid';
    let res: Awaited<ReturnType<TestStack['request']>>;
    try {
      res = await stack.request('POST', APP, body);
    } finally {
      process.env.WECHATPAY_APP_SUB_MCHID_FIELD = previous;
    }
    assert.equal(res.status, 502, JSON.stringify(res.body));
    assert.equal((res.body.wechatpay as { code?: string }).code, 'PARAM_ERROR');
    assert.equal('sub_mchid' in sentBody(body.out_contract_code), true);
  });

  test('trade_info without notify_url: WeChat Pay is told our callback route, so the repayment is tracked', async () => {
    const body = h5Body({ trade_info: { out_trade_no: 'T2026120201', deduct_amount: 100 } });
    const res = await stack.request('POST', H5, body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const trade = sentBody(body.out_contract_code).trade_info as Record<string, unknown>;
    assert.equal(trade.notify_url, stack.env.WECHATPAY_NOTIFY_URL);
    const given = h5Body({
      trade_info: {
        out_trade_no: 'T2026120202',
        deduct_amount: 100,
        notify_url: 'https://example.com/repaid',
      },
    });
    assert.equal((await stack.request('POST', H5, given)).status, 201);
    const kept = sentBody(given.out_contract_code).trade_info as Record<string, unknown>;
    assert.equal(kept.notify_url, 'https://example.com/repaid', 'a given notify_url is kept');
  });
});
