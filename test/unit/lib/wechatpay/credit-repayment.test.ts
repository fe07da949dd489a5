import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  APP_PRESIGN_PATH,
  contractPath,
  H5_PRESIGN_PATH,
  parseAppPresignResponse,
  parseContract,
  parseH5PresignResponse,
  parseTerminateResponse,
  TERMINATE_PATH,
} from '../../../../lib/wechatpay/credit-repayment';

const QUERY_RESPONSE = {
  contract_id: '1000000000000000000000000000000001',
  plan_id: '1001',
  out_contract_code: 'C20261127001',
  display_name: '***G',
  contract_state: 'CONTRACT_STATE_TERMINATED',
  contract_signed_time: '2026-11-27T10:00:00+08:00',
  contract_terminated_time: '2026-11-28T10:00:00+08:00',
  contract_terminated_mode: 'TERMINATION_MODE_BY_MERCHANT',
  contract_termination_remark: 'user asked',
  repayment_day: 15,
  openid: 'o-openid',
  appid: 'wx0000000000000001',
  repayment_amount_limit: 100000,
  unknown_new_field: { anything: true },
};

describe('credit-repayment paths', () => {
  it('match the documented endpoints and escape the contract code', () => {
    assert.equal(H5_PRESIGN_PATH, '/v3/credit-repayment/partner/contracts/h5-presign');
    assert.equal(APP_PRESIGN_PATH, '/v3/credit-repayment/partner/contracts/app-presign');
    assert.equal(TERMINATE_PATH, '/v3/credit-repayment/partner/contracts/terminate');
    assert.equal(contractPath('C1'), '/v3/credit-repayment/partner/contracts/C1');
    assert.equal(contractPath('a/b?c d'), '/v3/credit-repayment/partner/contracts/a%2Fb%3Fc%20d');
  });
});

describe('parseContract', () => {
  it('normalises the query response: amount to string, unknown fields dropped', () => {
    const { unknown_new_field: _dropped, ...known } = QUERY_RESPONSE;
    assert.deepEqual(parseContract(QUERY_RESPONSE), { ...known, repayment_amount_limit: '100000' });
  });

  it('tolerates the callback drift: numeric plan_id, string repayment_day, the old termination-mode name', () => {
    const contract = parseContract({
      out_contract_code: 'C1',
      contract_state: 'CONTRACT_STATE_EFFECTIVE',
      plan_id: 1001,
      repayment_day: '5',
      repayment_amount_limit: '500',
      contract_termination_mode: 'TERMINATION_MODE_BY_USER',
    });
    assert.deepEqual(contract, {
      out_contract_code: 'C1',
      contract_state: 'CONTRACT_STATE_EFFECTIVE',
      plan_id: '1001',
      repayment_day: 5,
      repayment_amount_limit: '500',
      contract_terminated_mode: 'TERMINATION_MODE_BY_USER',
    });
    assert.equal('contract_id' in contract, false);
  });

  it('prefers contract_terminated_mode when both names are present, and ignores an unusable repayment_day', () => {
    const contract = parseContract({
      out_contract_code: 'C1',
      contract_state: 'CONTRACT_STATE_TERMINATED',
      contract_terminated_mode: 'TERMINATION_MODE_BY_MERCHANT',
      contract_termination_mode: 'TERMINATION_MODE_BY_USER',
      repayment_day: 'soon',
    });
    assert.equal(contract.contract_terminated_mode, 'TERMINATION_MODE_BY_MERCHANT');
    assert.equal(contract.repayment_day, undefined);
  });

  it('is strict about out_contract_code and contract_state', () => {
    assert.throws(
      () => parseContract({ contract_state: 'CONTRACT_STATE_EFFECTIVE' }),
      /^Error: contract is missing out_contract_code$/,
    );
    assert.throws(
      () => parseContract({ out_contract_code: 'C1', contract_state: '' }),
      /contract is missing contract_state/,
    );
    assert.throws(() => parseContract(null), /contract is not a JSON object/);
    assert.throws(() => parseContract([QUERY_RESPONSE]), /contract is not a JSON object/);
  });
});

describe('parseTerminateResponse', () => {
  const flat = { out_contract_code: 'C1', contract_state: 'CONTRACT_STATE_TERMINATED' };

  it('accepts the contract_info wrapper, a flat body, or nothing', () => {
    assert.deepEqual(parseTerminateResponse({ contract_info: flat }), flat);
    assert.deepEqual(parseTerminateResponse(flat), flat);
    assert.equal(parseTerminateResponse(undefined), undefined);
    assert.equal(parseTerminateResponse({}), undefined);
    assert.equal(parseTerminateResponse({ contract_info: null }), undefined);
  });

  it('still insists on the required fields inside the wrapper', () => {
    assert.throws(
      () => parseTerminateResponse({ contract_info: { out_contract_code: 'C1' } }),
      /missing contract_state/,
    );
    assert.throws(() => parseTerminateResponse('x'), /terminate response is not a JSON object/);
  });
});

describe('presign responses', () => {
  it('reads redirect_url', () => {
    assert.deepEqual(parseH5PresignResponse({ redirect_url: 'https://x/y', more: 1 }), {
      redirect_url: 'https://x/y',
    });
    assert.throws(() => parseH5PresignResponse({}), /h5-presign response is missing redirect_url/);
    assert.throws(() => parseH5PresignResponse(undefined), /not a JSON object/);
  });

  it('reads presign_token and an optional redirect_service', () => {
    assert.deepEqual(parseAppPresignResponse({ presign_token: 'T' }), { presign_token: 'T' });
    assert.deepEqual(parseAppPresignResponse({ presign_token: 'T', redirect_service: 'S' }), {
      presign_token: 'T',
      redirect_service: 'S',
    });
    assert.throws(
      () => parseAppPresignResponse({ redirect_service: 'S' }),
      /app-presign response is missing presign_token/,
    );
  });
});
