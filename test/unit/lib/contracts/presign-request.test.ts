import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PresignWire, presignRequest } from '../../../../lib/contracts/presign-request';
import { validatePresign } from '../../../../lib/contracts/validation';
import { h5Body, PERSON } from '../../../support/contracts/fixtures';

const NOTIFY = 'https://api.example/wechatpay/notifications';
const encrypt = { encrypt: (plaintext: string) => `ENC(${plaintext.length})` };
const wire = (over: Partial<PresignWire> = {}): PresignWire => ({
  notifyUrl: NOTIFY,
  appSubMerchantField: 'sub_mchid',
  ...over,
});
const sent = (kind: 'H5' | 'APP', body: Record<string, unknown>, w = wire()) =>
  presignRequest(kind, validatePresign(kind, body), w, encrypt).body as Record<string, unknown>;
const appBody = () => {
  const { jump_info: _none, ...body } = h5Body();
  return body;
};

describe('the presign WeChat Pay receives', () => {
  it('our callback route as contract_notify_url, and the identity encrypted', () => {
    const body = sent('H5', h5Body());
    assert.equal(body.contract_notify_url, NOTIFY);
    const identity = body.real_identity as Record<string, string>;
    assert.match(identity.identity_id ?? '', /^ENC\(/);
    assert.ok(!JSON.stringify(body).includes(PERSON.id) && !JSON.stringify(body).includes(PERSON.name));
  });

  it('the APP sub-merchant id under the configured name; H5 always sub_mchid', () => {
    const code = sent('APP', appBody(), wire({ appSubMerchantField: 'sub_merchant_code' }));
    assert.equal(code.sub_merchant_code, '1000000109');
    assert.equal('sub_mchid' in code, false);
    assert.equal(sent('APP', appBody()).sub_mchid, '1000000109', 'sub_mchid by default');
    const h5 = sent('H5', h5Body(), wire({ appSubMerchantField: 'sub_merchant_code' }));
    assert.equal(h5.sub_mchid, '1000000109');
    assert.equal('sub_merchant_code' in h5, false);
  });

  it('trade_info without notify_url gets our callback route; a given one is kept', () => {
    const trade = (over: Record<string, unknown>) =>
      sent('H5', h5Body({ trade_info: { out_trade_no: 'T1', deduct_amount: 100, ...over } }))
        .trade_info as Record<string, unknown>;
    assert.deepEqual(trade({}), { out_trade_no: 'T1', deduct_amount: 100, notify_url: NOTIFY });
    assert.equal(trade({ notify_url: 'https://x.example/repaid' }).notify_url, 'https://x.example/repaid');
    assert.equal('trade_info' in sent('H5', h5Body()), false, 'no trade_info, none invented');
  });
});
