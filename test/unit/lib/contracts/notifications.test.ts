import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyNotification } from '../../../../lib/contracts/notifications';
import { MemoryNotifications } from '../../../support/contracts/memory-notifications';
import { MemoryContractStore } from '../../../support/contracts/memory-store';

function setup() {
  const contracts = new MemoryContractStore();
  const notifications = new MemoryNotifications(contracts);
  return {
    contracts,
    notifications,
    deps: { contracts, notifications, clock: () => Date.parse('2026-11-27T05:00:00Z') },
  };
}

const envelope = (id: string, event_type = 'CREDIT_REPAYMENT.SIGN_CONTRACT') => ({
  id,
  create_time: '2026-11-27T13:00:00+08:00',
  event_type,
  resource_type: 'encrypt-resource',
  resource: { algorithm: 'AEAD_AES_256_GCM', ciphertext: 'c', nonce: 'n' },
});
const contract = (state: string) => ({
  out_contract_code: 'C1',
  contract_state: state,
  contract_id: 'CID',
  plan_id: 7,
  openid: 'o-secret',
  repayment_amount_limit: '100',
});
const raw = Buffer.from('{"still":"encrypted"}');

describe('applyNotification', () => {
  it('creates an unknown contract from WeChat Pay’s word, then treats the same id as a duplicate', async () => {
    const { contracts, deps } = setup();
    const first = await applyNotification(deps, {
      envelope: envelope('N1'),
      resource: contract('CONTRACT_STATE_EFFECTIVE'),
      rawBody: raw,
    });
    assert.deepEqual(first, { outcome: 'APPLIED', out_contract_code: 'C1', created: true });
    assert.equal(contracts.items.get('C1')?.plan_id, '7');
    const again = await applyNotification(deps, {
      envelope: envelope('N1'),
      resource: contract('CONTRACT_STATE_EFFECTIVE'),
      rawBody: raw,
    });
    assert.equal(again.outcome, 'DUPLICATE');
    assert.equal(contracts.items.get('C1')?.version, 1);
  });

  it('records a late SIGN after TERMINATED as STALE without moving the contract back', async () => {
    const { contracts, deps } = setup();
    await applyNotification(deps, {
      envelope: envelope('T1', 'CREDIT_REPAYMENT.TERMINATE_CONTRACT'),
      resource: contract('CONTRACT_STATE_TERMINATED'),
      rawBody: raw,
    });
    const late = await applyNotification(deps, {
      envelope: envelope('S1'),
      resource: contract('CONTRACT_STATE_EFFECTIVE'),
      rawBody: raw,
    });
    assert.equal(late.outcome, 'STALE');
    assert.equal(contracts.items.get('C1')?.state, 'TERMINATED');
  });

  it('keeps unknown event types and unknown contract states raw (still encrypted), without expiry, announced', async () => {
    const { notifications, contracts, deps } = setup();
    const other = await applyNotification(deps, {
      envelope: envelope('D1', 'CREDIT_REPAYMENT.SOMETHING_NEW'),
      resource: { x: 1 },
      rawBody: raw,
    });
    assert.deepEqual(other, { outcome: 'UNHANDLED', created: false });
    const odd = await applyNotification(deps, {
      envelope: envelope('U1'),
      resource: contract('CONTRACT_STATE_NEW_KIND'),
      rawBody: raw,
    });
    assert.deepEqual(odd, { outcome: 'UNHANDLED', out_contract_code: 'C1', created: false });
    const kept = notifications.items.get('U1');
    assert.equal(kept?.raw_body, raw.toString());
    assert.equal(kept?.reason, 'unknown contract state');
    assert.equal(kept?.expires_at_epoch, undefined, 'kept until applied, never expired');
    assert.equal(notifications.items.get('D1')?.reason, 'unknown event type');
    assert.equal(contracts.items.size, 0);
    assert.deepEqual(
      notifications.announced.map((e) => [e.event.type, e.event.detail.event_id, e.attempts]),
      [
        ['NotificationUnhandled', 'D1', 0],
        ['NotificationUnhandled', 'U1', 0],
      ],
    );
    assert.deepEqual(notifications.announced[1]?.event.detail, {
      event_id: 'U1',
      notification_id: 'U1',
      event_type: 'CREDIT_REPAYMENT.SIGN_CONTRACT',
      reason: 'unknown contract state',
      out_contract_code: 'C1',
      occurred_at: '2026-11-27T05:00:00.000Z',
    });
    assert.ok(!JSON.stringify(notifications.announced).includes('o-secret'), 'no openid in the event');
    const again = await applyNotification(deps, {
      envelope: envelope('U1'),
      resource: contract('CONTRACT_STATE_NEW_KIND'),
      rawBody: raw,
    });
    assert.equal(again.outcome, 'DUPLICATE');
    assert.equal(notifications.announced.length, 2, 'announced once');
  });

  it('an applied notification keeps its id for a week, to recognise WeChat Pay’s redeliveries', async () => {
    const { notifications, deps } = setup();
    await applyNotification(deps, {
      envelope: envelope('A1'),
      resource: contract('CONTRACT_STATE_EFFECTIVE'),
      rawBody: raw,
    });
    assert.equal(
      notifications.items.get('A1')?.expires_at_epoch,
      Date.parse('2026-11-27T05:00:00Z') / 1000 + 7 * 24 * 3600,
    );
    assert.deepEqual(notifications.announced, []);
  });

  it('refuses a resource that is not a contract, naming the missing field', async () => {
    const { deps } = setup();
    await assert.rejects(
      applyNotification(deps, {
        envelope: envelope('X1'),
        resource: { contract_state: 'CONTRACT_STATE_EFFECTIVE' },
        rawBody: raw,
      }),
      /out_contract_code/,
    );
  });
});
