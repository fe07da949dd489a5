import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ContractEventType, eventsFor, notificationUnhandled } from '../../../../lib/contracts/events';
import type { ContractState } from '../../../../lib/contracts/lifecycle';
import type { ContractRecord } from '../../../../lib/contracts/model';
import { PERSON } from '../../../support/contracts/fixtures';
import { checkEvent } from '../../../support/repayments/event-schemas';

function record(state: ContractState, overrides: Partial<ContractRecord> = {}): ContractRecord {
  return {
    out_contract_code: 'C202601010001',
    state,
    kind: 'H5',
    request_hash: 'hash-not-for-events',
    appid: 'wxd678efh567hg6787',
    plan_id: '123',
    display_name: PERSON.display,
    repayment_amount_limit: '10000',
    sub_mchid: '1000000109',
    origin: 'PRESIGN',
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:05.000Z',
    version: 2,
    ...overrides,
  };
}

describe('eventsFor', () => {
  const cases: [ContractState, ContractState, ContractEventType][] = [
    ['PRESIGNING', 'PRESIGNED', 'ContractPresigned'],
    ['PRESIGNING', 'PRESIGN_FAILED', 'ContractPresignFailed'],
    ['PRESIGNED', 'SIGNED', 'ContractSigned'],
    ['SIGNED', 'TERMINATED', 'ContractTerminated'],
    ['PRESIGNED', 'EXPIRED', 'ContractExpired'],
    ['PRESIGN_UNKNOWN', 'PRESIGNED', 'ContractPresigned'],
    ['EXPIRED', 'SIGNED', 'ContractSigned'],
  ];
  for (const [from, to, type] of cases) {
    it(`announces ${from} -> ${to} as ${type}`, () => {
      const events = eventsFor(record(from, { version: 1 }), record(to, { version: 2 }));
      assert.deepEqual(
        events.map((e) => [e.type, e.detail.state, e.detail.previous_state]),
        [[type, to, from]],
      );
    });
  }

  it('announces nothing for PRESIGNING and PRESIGN_UNKNOWN', () => {
    assert.deepEqual(eventsFor(undefined, record('PRESIGNING', { version: 1 })), []);
    assert.deepEqual(eventsFor(record('PRESIGNING'), record('PRESIGN_UNKNOWN')), []);
  });

  it('announces nothing when the state did not change', () => {
    const before = record('PRESIGNED', { version: 2 });
    const after = record('PRESIGNED', { version: 3, wechatpay_request_id: 'req-2' });
    assert.deepEqual(eventsFor(before, after), []);
  });

  it('announces nothing for a removal', () => {
    assert.deepEqual(eventsFor(record('SIGNED'), undefined), []);
  });

  it('announces a record created directly in an announced state, without previous_state', () => {
    const created = record('SIGNED', { origin: 'CALLBACK', contract_id: 'CID1', version: 1 });
    const [event, ...rest] = eventsFor(undefined, created);
    assert.equal(rest.length, 0);
    assert.equal(event?.type, 'ContractSigned');
    assert.equal(event?.detail.origin, 'CALLBACK');
    assert.equal('previous_state' in (event?.detail ?? {}), false);
  });

  it('derives a stable event_id from the code and version, and occurred_at from updated_at', () => {
    const next = record('SIGNED', { version: 7, updated_at: '2026-01-02T03:04:05.000Z' });
    const first = eventsFor(record('PRESIGNED', { version: 6 }), next);
    const again = eventsFor(record('PRESIGNED', { version: 6 }), structuredClone(next));
    assert.equal(first[0]?.detail.event_id, 'C202601010001:7');
    assert.deepEqual(again, first);
    assert.equal(first[0]?.detail.occurred_at, '2026-01-02T03:04:05.000Z');
  });

  it('carries the allowed contract facts', () => {
    const next = record('TERMINATED', {
      contract_id: 'CID1',
      expires_at: '2026-01-01T00:10:00.000Z',
      contract_signed_time: '2026-01-01T00:01:00+08:00',
      contract_terminated_time: '2026-01-03T00:00:00+08:00',
      contract_terminated_mode: 'USER_TERMINATE_CONTRACT',
      version: 5,
    });
    assert.deepEqual(eventsFor(record('SIGNED', { version: 4 }), next)[0]?.detail, {
      event_id: 'C202601010001:5',
      out_contract_code: 'C202601010001',
      state: 'TERMINATED',
      previous_state: 'SIGNED',
      contract_id: 'CID1',
      plan_id: '123',
      appid: 'wxd678efh567hg6787',
      sub_mchid: '1000000109',
      expires_at: '2026-01-01T00:10:00.000Z',
      contract_signed_time: '2026-01-01T00:01:00+08:00',
      contract_terminated_time: '2026-01-03T00:00:00+08:00',
      contract_terminated_mode: 'USER_TERMINATE_CONTRACT',
      origin: 'PRESIGN',
      occurred_at: '2026-01-01T00:00:05.000Z',
    });
  });

  it("carries WeChat Pay's failure without anything else it might hold", () => {
    const failure = { status: 400, code: 'PARAM_ERROR', message: 'plan_id invalid', request_id: 'R1' };
    const next = record('PRESIGN_FAILED', {
      wechatpay_error: { ...failure, detail: { openid: 'o-leak' } } as never,
    });
    assert.deepEqual(eventsFor(record('PRESIGNING'), next)[0]?.detail.wechatpay_error, failure);
  });

  it('never carries personal data or internal fields, whatever the record holds', () => {
    const secrets = {
      openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
      real_name: PERSON.name,
      identity_id: PERSON.id,
      real_identity: { real_name: PERSON.name, identity_id: PERSON.id },
      display_name: PERSON.display,
      redirect_url: 'https://example.com/presign?token=secret-token-1',
      presign_token: 'secret-token-2',
      request_hash: 'secret-hash',
      contract_termination_remark: 'remark-not-for-events',
      wechatpay_request_id: 'internal-request-id',
      repayment_amount_limit: '98765',
    };
    const stuffed = { ...record('SIGNED', { contract_id: 'CID1' }), ...secrets } as ContractRecord;
    const [event] = eventsFor(record('PRESIGNED', { version: 1 }), stuffed);
    assert.ok(event);
    const serialised = JSON.stringify(event.detail);
    for (const [key, value] of Object.entries(secrets)) {
      assert.equal(serialised.includes(`"${key}"`), false, `key ${key} leaked`);
      const texts = typeof value === 'string' ? [value] : Object.values(value);
      for (const text of texts) assert.equal(serialised.includes(text), false, `value of ${key} leaked`);
    }
  });

  it('copies only text into text fields (an image is untyped data)', () => {
    const odd = record('SIGNED', { contract_id: { openid: 'o-nested' } as never });
    const detail = eventsFor(record('PRESIGNED'), odd)[0]?.detail;
    assert.equal(detail?.contract_id, undefined);
    assert.equal(JSON.stringify(detail).includes('o-nested'), false);
  });
});

describe('notificationUnhandled', () => {
  it('announces a kept notification by its id, in the one NotificationUnhandled schema repayments share', () => {
    const event = notificationUnhandled({
      id: 'N1',
      event_type: 'CREDIT_REPAYMENT.SOMETHING_NEW',
      received_at: '2026-11-27T05:00:00.000Z',
      reason: 'unknown contract state',
      out_contract_code: 'C1',
    });
    assert.deepEqual(event, {
      type: 'NotificationUnhandled',
      detail: {
        event_id: 'N1',
        notification_id: 'N1',
        event_type: 'CREDIT_REPAYMENT.SOMETHING_NEW',
        reason: 'unknown contract state',
        out_contract_code: 'C1',
        occurred_at: '2026-11-27T05:00:00.000Z',
      },
    });
    checkEvent(event);
    assert.throws(
      () => checkEvent({ ...event, detail: { ...event.detail, openid: 'o-x' } }),
      /does not match/,
    );
  });
});
