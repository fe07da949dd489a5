import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyFacts, stateOf } from '../../../../lib/contracts/facts';
import { CONTRACT_STATES, type ContractRecord, type ContractState } from '../../../../lib/contracts/model';
import { parseContract, type WechatPayContract } from '../../../../lib/wechatpay/credit-repayment';
import { PERSON, PRESIGNED_BY_US } from '../../../support/fixtures';

const NOW = '2026-11-27T04:30:00.000Z';
const CODE = 'C2026112700001';

function record(state: ContractState, overrides: Partial<ContractRecord> = {}): ContractRecord {
  return {
    ...PRESIGNED_BY_US,
    out_contract_code: CODE,
    state,
    redirect_url: 'https://wx.example/sign?token=t',
    expires_at: '2026-11-27T04:10:00.000Z',
    created_at: '2026-11-27T04:00:00.000Z',
    updated_at: '2026-11-27T04:00:01.000Z',
    version: 2,
    ...overrides,
  };
}

const effective: WechatPayContract = {
  out_contract_code: CODE,
  contract_state: 'CONTRACT_STATE_EFFECTIVE',
  contract_id: '202611270000000000000000001',
  plan_id: '123',
  display_name: PERSON.display,
  contract_signed_time: '2026-11-27T12:05:00+08:00',
  contract_terminated_mode: 'TERMINATION_MODE_INVALID',
  repayment_amount_limit: '10000',
  appid: 'wxd678efh567hg6787',
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
};

const terminated: WechatPayContract = {
  out_contract_code: CODE,
  contract_state: 'CONTRACT_STATE_TERMINATED',
  contract_id: effective.contract_id,
  contract_terminated_time: '2026-11-27T12:20:00+08:00',
  contract_terminated_mode: 'TERMINATION_MODE_BY_USER',
  contract_termination_remark: 'user ended it',
};

describe('stateOf', () => {
  it('maps the two states WeChat Pay reports and ignores the zero value and anything unknown', () => {
    assert.equal(stateOf('CONTRACT_STATE_EFFECTIVE'), 'SIGNED');
    assert.equal(stateOf('CONTRACT_STATE_TERMINATED'), 'TERMINATED');
    assert.equal(stateOf('CONTRACT_STATE_INVALID'), undefined);
    assert.equal(stateOf('SOMETHING_NEW'), undefined);
  });
});

describe('applyFacts', () => {
  it('moves a PRESIGNED record to SIGNED with WeChat Pay ids, keeping our own bookkeeping', () => {
    const next = applyFacts(record('PRESIGNED'), effective, 'QUERY', NOW);
    assert.ok(next);
    assert.equal(next.state, 'SIGNED');
    assert.equal(next.contract_id, effective.contract_id);
    assert.equal(next.openid, effective.openid);
    assert.equal(next.contract_signed_time, effective.contract_signed_time);
    assert.equal(next.updated_at, NOW);
    assert.equal(next.version, 3);
    assert.equal(next.request_hash, 'h', 'the request hash still tells our own retry apart');
    assert.equal(next.redirect_url, 'https://wx.example/sign?token=t');
    assert.equal(next.origin, 'PRESIGN', 'the record keeps what created it');
  });

  it('lets WeChat Pay’s word beat our inferences: SIGNED from every state but TERMINATED', () => {
    for (const from of CONTRACT_STATES) {
      const next = applyFacts(record(from), effective, 'CALLBACK', NOW);
      if (from === 'TERMINATED' || from === 'SIGNED') assert.equal(next, undefined, from);
      else assert.equal(next?.state, 'SIGNED', from);
    }
  });

  it('never moves a TERMINATED contract back: a late SIGN_CONTRACT is stale', () => {
    assert.equal(applyFacts(record('TERMINATED'), effective, 'CALLBACK', NOW), undefined);
    assert.equal(applyFacts(record('TERMINATED'), terminated, 'CALLBACK', NOW), undefined);
  });

  it('treats a repeated fact as stale (no write, so no second event)', () => {
    const signed = applyFacts(record('PRESIGNED'), effective, 'CALLBACK', NOW);
    assert.ok(signed);
    assert.equal(applyFacts(signed, effective, 'QUERY', NOW), undefined);
  });

  it('terminates a SIGNED contract and keeps what the termination facts do not repeat', () => {
    const signed = applyFacts(record('PRESIGNED'), effective, 'CALLBACK', NOW);
    assert.ok(signed);
    const next = applyFacts(signed, terminated, 'CALLBACK', NOW);
    assert.equal(next?.state, 'TERMINATED');
    assert.equal(next?.contract_terminated_mode, 'TERMINATION_MODE_BY_USER');
    assert.equal(next?.contract_termination_remark, 'user ended it');
    assert.equal(next?.openid, effective.openid, 'absent in the facts, kept from the record');
    assert.equal(next?.contract_signed_time, effective.contract_signed_time);
  });

  it('creates a record from WeChat Pay’s data for a code we never pre-signed', () => {
    const next = applyFacts(undefined, effective, 'QUERY', NOW);
    assert.deepEqual(next, {
      out_contract_code: CODE,
      state: 'SIGNED',
      origin: 'QUERY',
      appid: effective.appid,
      plan_id: '123',
      display_name: PERSON.display,
      repayment_amount_limit: '10000',
      contract_id: effective.contract_id,
      openid: effective.openid,
      contract_signed_time: effective.contract_signed_time,
      contract_terminated_mode: 'TERMINATION_MODE_INVALID',
      created_at: NOW,
      updated_at: NOW,
      version: 1,
    });
    const bare = applyFacts(undefined, terminated, 'CALLBACK', NOW);
    assert.equal(bare?.state, 'TERMINATED');
    assert.equal(bare?.appid, '', 'unknown fields are empty, never undefined');
  });

  it('acts on nothing for a state it does not know, not even for an unknown code', () => {
    const invalid = { ...effective, contract_state: 'CONTRACT_STATE_INVALID' };
    assert.equal(applyFacts(record('PRESIGNED'), invalid, 'QUERY', NOW), undefined);
    assert.equal(applyFacts(undefined, invalid, 'QUERY', NOW), undefined);
  });

  it('clears local_failure once WeChat Pay reports the contract', () => {
    const next = applyFacts(record('PRESIGNING', { local_failure: true }), effective, 'QUERY', NOW);
    assert.equal(next?.state, 'SIGNED');
    assert.equal('local_failure' in (next ?? {}), false);
  });

  it('records the query answer’s number limit and old mode name the same way as a callback’s', () => {
    const fromQuery = parseContract({
      ...terminated,
      contract_terminated_mode: undefined,
      contract_termination_mode: 'TERMINATION_MODE_BY_MERCHANT',
      repayment_amount_limit: 10000,
      repayment_day: '5',
    });
    const next = applyFacts(record('SIGNED'), fromQuery, 'QUERY', NOW);
    assert.equal(next?.contract_terminated_mode, 'TERMINATION_MODE_BY_MERCHANT');
    assert.equal(next?.repayment_amount_limit, '10000');
    assert.equal(next?.repayment_day, 5);
  });
});
