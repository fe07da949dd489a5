import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContractRecord } from '../../../../lib/contracts/model';
import { applyNotification } from '../../../../lib/contracts/notifications';
import type { NotificationRecord, NotificationStore } from '../../../../lib/contracts/ports';
import { MemoryContractStore } from '../../../support/contracts/memory-store';

/** Notification ids with the same all-or-nothing semantics as the DynamoDB transaction. */
class MemoryNotifications implements NotificationStore {
  readonly items = new Map<string, NotificationRecord>();
  constructor(private readonly contracts: MemoryContractStore) {}
  async record(n: NotificationRecord, next?: ContractRecord) {
    if (this.items.has(n.id)) return 'duplicate' as const;
    if (next && !(await this.contracts.save(next))) return 'conflict' as const;
    this.items.set(n.id, n);
    return 'recorded' as const;
  }
}

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

  it('keeps unknown event types and unknown contract states raw (still encrypted), never lost', async () => {
    const { notifications, contracts, deps } = setup();
    const other = await applyNotification(deps, {
      envelope: envelope('D1', 'CREDIT_REPAYMENT.DEDUCTION_PAY'),
      resource: { x: 1 },
      rawBody: raw,
    });
    assert.equal(other.outcome, 'STORED_RAW');
    const odd = await applyNotification(deps, {
      envelope: envelope('U1'),
      resource: contract('CONTRACT_STATE_NEW_KIND'),
      rawBody: raw,
    });
    assert.equal(odd.outcome, 'STORED_RAW');
    assert.equal(notifications.items.get('U1')?.raw_body, raw.toString());
    assert.equal(contracts.items.size, 0);
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
