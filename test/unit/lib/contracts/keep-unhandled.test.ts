import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keepUnhandled } from '../../../../lib/contracts/keep-unhandled';
import { MemoryNotifications } from '../../../support/contracts/memory-notifications';
import { MemoryContractStore } from '../../../support/contracts/memory-store';

const T = Date.parse('2026-11-27T06:00:00.000Z');
const envelope = {
  id: 'K1',
  event_type: 'CREDIT_REPAYMENT.DEDUCTION_PAY',
  create_time: '2026-11-27T13:59:00+08:00',
};
const rawBody = Buffer.from('{"id":"K1","resource":{"ciphertext":"c2VjcmV0"}}');

describe('keepUnhandled', () => {
  it('keeps the body as received without expiry and announces it in the same write, once per id', async () => {
    const notifications = new MemoryNotifications(new MemoryContractStore());
    const deps = { notifications, clock: () => T };
    const why = { reason: 'does not match its booking', out_contract_code: 'C1' };
    assert.equal(await keepUnhandled(deps, { envelope, rawBody, ...why }), 'kept');
    assert.deepEqual(notifications.items.get('K1'), {
      ...envelope,
      received_at: new Date(T).toISOString(),
      out_contract_code: 'C1',
      outcome: 'UNHANDLED',
      reason: 'does not match its booking',
      raw_body: rawBody.toString('utf8'),
    });
    assert.deepEqual(
      notifications.announced.map((e) => [e.event.type, e.event.detail, e.attempts]),
      [
        [
          'NotificationUnhandled',
          {
            event_id: 'K1',
            notification_id: 'K1',
            event_type: envelope.event_type,
            reason: why.reason,
            out_contract_code: 'C1',
            occurred_at: new Date(T).toISOString(),
          },
          0,
        ],
      ],
    );
    assert.equal(await keepUnhandled(deps, { envelope, rawBody, ...why }), 'duplicate');
    assert.equal(notifications.announced.length, 1, 'a redelivery is not announced again');
  });

  it('needs no contract code', async () => {
    const notifications = new MemoryNotifications(new MemoryContractStore());
    await keepUnhandled(
      { notifications, clock: () => T },
      { envelope, rawBody, reason: 'unknown event type' },
    );
    assert.equal(notifications.items.get('K1')?.out_contract_code, undefined);
    assert.ok(!('out_contract_code' in (notifications.announced[0]?.event.detail ?? {})));
  });
});
