import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NotificationRecord } from '../../../../lib/contracts/ports';
import { applyUnhandled, listUnhandled } from '../../../../lib/contracts/unhandled';
import { PRESIGNED_BY_US } from '../../../support/contracts/fixtures';
import { MemoryNotifications } from '../../../support/contracts/memory-notifications';
import { MemoryContractStore } from '../../../support/contracts/memory-store';
import {
  callback,
  newWechatPayKeys,
  SIGN_CONTRACT,
  signedContract,
} from '../../../support/wechatpay/callbacks';

const T = Date.parse('2026-11-27T06:00:00.000Z');
const keys = newWechatPayKeys();

/** A notification an earlier release kept: its body still encrypted, exactly as WeChat Pay sent it. */
function kept(id: string, eventType: string, resource: unknown, reason: string): NotificationRecord {
  const cb = callback(keys, { id, eventType, resource });
  return {
    id,
    event_type: eventType,
    create_time: '2026-11-27T13:00:00+08:00',
    received_at: new Date(T - 60_000).toISOString(),
    outcome: 'UNHANDLED',
    reason,
    raw_body: cb.body.toString('utf8'),
    ...(typeof resource === 'object' && resource && 'out_contract_code' in resource
      ? { out_contract_code: String((resource as { out_contract_code: unknown }).out_contract_code) }
      : {}),
  };
}

function setup(items: NotificationRecord[]) {
  const contracts = new MemoryContractStore();
  const notifications = new MemoryNotifications(contracts);
  for (const n of items) notifications.items.set(n.id, n);
  const deps = { contracts, notifications, apiV3Key: Buffer.from(keys.apiV3Key), clock: () => T };
  return { contracts, notifications, deps };
}

describe('notifications kept UNHANDLED', () => {
  it('are listed without their bodies, oldest first', async () => {
    const { deps } = setup([
      kept('N1', 'CREDIT_REPAYMENT.SOMETHING_NEW', { x: 1 }, 'unknown event type'),
      {
        ...kept('N0', SIGN_CONTRACT, signedContract('C0'), 'unknown contract state'),
        received_at: new Date(T - 120_000).toISOString(),
      },
    ]);
    const { notifications } = await listUnhandled(deps, 10);
    assert.deepEqual(
      notifications.map((n) => [n.id, n.reason, n.out_contract_code]),
      [
        ['N0', 'unknown contract state', 'C0'],
        ['N1', 'unknown event type', undefined],
      ],
    );
    assert.ok(
      notifications.every((n) => !('raw_body' in n)),
      'never the body',
    );
  });

  it('once this release understands one, apply moves the contract and settles the notification, once', async () => {
    const resource = signedContract('C1');
    const { contracts, notifications, deps } = setup([
      kept('N1', SIGN_CONTRACT, resource, 'unknown contract state'),
      kept('N2', 'CREDIT_REPAYMENT.SOMETHING_NEW', { x: 1 }, 'unknown event type'),
    ]);
    contracts.items.set('C1', {
      ...PRESIGNED_BY_US,
      out_contract_code: 'C1',
      state: 'PRESIGNED',
      created_at: new Date(T - 600_000).toISOString(),
      updated_at: new Date(T - 600_000).toISOString(),
      version: 2,
    });
    const report = await applyUnhandled(deps, { limit: 10 });
    assert.deepEqual(report, {
      applied: ['N1'],
      stale: [],
      still_unhandled: [{ id: 'N2', reason: 'unknown event type' }],
      not_unhandled: [],
    });
    const contract = contracts.items.get('C1');
    assert.deepEqual(
      [contract?.state, contract?.contract_id, contract?.version],
      ['SIGNED', resource.contract_id, 3],
    );
    assert.equal(contract?.updated_at, new Date(T).toISOString(), 'applied now');
    const settled = notifications.items.get('N1');
    assert.deepEqual([settled?.outcome, settled?.settled_at], ['APPLIED', new Date(T).toISOString()]);
    assert.equal(settled?.expires_at_epoch, T / 1000 + 7 * 24 * 3600);
    const again = await applyUnhandled(deps, { ids: ['N1'], limit: 10 });
    assert.deepEqual(again.not_unhandled, ['N1'], 'applied once only');
    assert.equal(contracts.items.get('C1')?.version, 3);
  });

  it('a kept fact that is old news is recorded STALE and moves nothing', async () => {
    const { contracts, deps } = setup([
      kept('N3', SIGN_CONTRACT, signedContract('C3'), 'unknown contract state'),
    ]);
    contracts.items.set('C3', {
      ...PRESIGNED_BY_US,
      out_contract_code: 'C3',
      state: 'TERMINATED',
      created_at: new Date(T).toISOString(),
      updated_at: new Date(T).toISOString(),
      version: 4,
    });
    assert.deepEqual((await applyUnhandled(deps, { ids: ['N3', 'N404'], limit: 10 })).stale, ['N3']);
    assert.equal(contracts.items.get('C3')?.state, 'TERMINATED');
  });

  it('one that cannot be read any more (the APIv3 key was reset) stays kept, and the others are applied', async () => {
    const unreadable = { ...kept('N5', SIGN_CONTRACT, signedContract('C5'), 'unknown contract state') };
    const other = newWechatPayKeys();
    unreadable.raw_body = callback(other, { id: 'N5', resource: signedContract('C5') }).body.toString('utf8');
    const { contracts, notifications, deps } = setup([
      unreadable,
      kept('N6', SIGN_CONTRACT, signedContract('C6'), 'unknown contract state'),
    ]);
    const report = await applyUnhandled(deps, { limit: 10 });
    assert.deepEqual(report.applied, ['N6']);
    assert.deepEqual(
      report.still_unhandled.map((n) => n.id),
      ['N5'],
    );
    assert.match(String(report.still_unhandled[0]?.reason), /^cannot be read: /);
    assert.equal(notifications.items.get('N5')?.outcome, 'UNHANDLED');
    assert.equal(contracts.items.get('C6')?.state, 'SIGNED');
  });
});
