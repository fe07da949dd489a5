import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyFacts,
  CONTRACT_STATES,
  type ContractState,
  canTransition,
  EXPIRABLE_STATES,
  EXPIRY_GRACE_MS,
  expired,
  lapsesAt,
  PRESIGN_TTL_MS,
  stateOf,
} from '../../../../lib/contracts/lifecycle';
import type { ContractRecord } from '../../../../lib/contracts/model';
import { parseContract, type WechatPayContract } from '../../../../lib/wechatpay/credit-repayment';
import { PERSON, PRESIGNED_BY_US } from '../../../support/contracts/fixtures';

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

describe('transitions', () => {
  const moves = (from: ContractState) => CONTRACT_STATES.filter((to) => canTransition(from, to));

  it('only move forward: no state moves to itself, and no chain of moves leads back to where it started', () => {
    const leadsBackTo = (start: ContractState, from: ContractState, seen: Set<ContractState>): boolean =>
      moves(from).some((to) => to === start || (!seen.has(to) && leadsBackTo(start, to, seen.add(to))));
    for (const state of CONTRACT_STATES) {
      assert.equal(canTransition(state, state), false, `${state} -> ${state}`);
      assert.equal(leadsBackTo(state, state, new Set()), false, `a cycle through ${state}`);
    }
  });

  it('let WeChat Pay’s word win: SIGNED from every state but TERMINATED, TERMINATED from every other state', () => {
    for (const state of CONTRACT_STATES) {
      assert.equal(canTransition(state, 'SIGNED'), state !== 'SIGNED' && state !== 'TERMINATED', state);
      assert.equal(canTransition(state, 'TERMINATED'), state !== 'TERMINATED', state);
    }
    assert.deepEqual(moves('TERMINATED'), []);
  });

  it('settle a presign only from where it may still be open', () => {
    assert.deepEqual(
      moves('PRESIGNING'),
      CONTRACT_STATES.filter((s) => s !== 'PRESIGNING'),
      'a claim may end in any state',
    );
    assert.deepEqual(
      CONTRACT_STATES.filter((s) => canTransition(s, 'EXPIRED')),
      [...EXPIRABLE_STATES].sort((a, b) => CONTRACT_STATES.indexOf(a) - CONTRACT_STATES.indexOf(b)),
    );
    assert.equal(canTransition('PRESIGN_FAILED', 'PRESIGNED'), false);
  });
});

describe('lapsesAt and expired', () => {
  const T0 = Date.parse('2026-11-27T04:00:00.000Z');
  const at = (ms: number) => new Date(ms).toISOString();

  it('counts from expires_at when WeChat Pay gave one, else from the last write', () => {
    const presigned = record('PRESIGNED', { expires_at: at(T0 + 60_000), updated_at: at(T0) });
    assert.equal(lapsesAt(presigned), T0 + 60_000);
    const { expires_at: _none, ...unknown } = record('PRESIGN_UNKNOWN', { updated_at: at(T0) });
    assert.equal(lapsesAt(unknown), T0 + PRESIGN_TTL_MS);
  });

  it('expires an open presign only once its token lapsed plus the grace period', () => {
    const open = record('PRESIGNED', { expires_at: at(T0), local_failure: true });
    assert.equal(expired(open, T0 + EXPIRY_GRACE_MS - 1), undefined);
    const next = expired(open, T0 + EXPIRY_GRACE_MS);
    assert.equal(next?.state, 'EXPIRED');
    assert.equal(next?.version, open.version + 1);
    assert.equal(next?.updated_at, at(T0 + EXPIRY_GRACE_MS));
    assert.equal('local_failure' in (next ?? {}), false);
  });

  it('never expires what is not open, nor a code nobody knows', () => {
    const late = T0 + PRESIGN_TTL_MS * 10;
    for (const state of CONTRACT_STATES) {
      const result = expired(record(state, { expires_at: at(T0) }), late);
      assert.equal(result !== undefined, (EXPIRABLE_STATES as readonly string[]).includes(state), state);
    }
    assert.equal(expired(undefined, late), undefined);
  });
});

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
