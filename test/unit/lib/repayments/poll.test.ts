import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WechatPayUnavailable } from '../../../../lib/errors';
import { book } from '../../../../lib/repayments/book';
import { POLL_SHARDS } from '../../../../lib/repayments/indexes';
import type { BookingRecord } from '../../../../lib/repayments/model';
import { pollRepayments } from '../../../../lib/repayments/poll';
import { bookingBody, memoryDeps, scriptedWechatPay } from '../../../support/repayments/fixtures';

/** Twelve bookings whose answer was lost (SCHEDULE_UNKNOWN), spread over the poll shards. */
async function lostBookings(queryAnswer: (id: string) => 'found' | 'down') {
  let booking = true;
  const wechatpay = scriptedWechatPay((request) => {
    if (booking) return { error: new WechatPayUnavailable('timed out') };
    const id = request.path.split('/').at(-1)?.split('?')[0] ?? '';
    return queryAnswer(id) === 'found'
      ? { json: { out_record_id: id } }
      : { error: new WechatPayUnavailable('503') };
  });
  const parts = memoryDeps(wechatpay);
  const ids = Array.from({ length: 12 }, (_, i) => `R${i}`);
  for (const id of ids)
    await book(parts.deps, 'LOAN1', bookingBody({ out_record_id: id })).catch(() => undefined);
  booking = false;
  return { ...parts, ids, wechatpay };
}

describe('polling repayments', () => {
  it('asks only about bookings whose check is due, through the shards, within the limit per run', async () => {
    const { deps, clock, ids, store, wechatpay } = await lostBookings(() => 'found');
    const none = await pollRepayments(deps, { limit: 100, concurrency: 2 });
    assert.equal(none.examined, 0, 'nothing is due before its first backoff');
    clock.now += 60_000;
    const first = await pollRepayments(deps, { limit: 5, concurrency: 2 });
    assert.deepEqual([first.examined, first.settled.SCHEDULED], [5, 5]);
    const rest = await pollRepayments(deps, { limit: 100, concurrency: 4 });
    assert.deepEqual([rest.examined, rest.settled.SCHEDULED], [7, 7]);
    for (const id of ids) assert.equal(((await store.get(id)) as BookingRecord).state, 'SCHEDULED');
    const shards = new Set([...store.items.values()].map((i) => (i as BookingRecord).poll_shard));
    assert.ok(shards.size <= POLL_SHARDS);
    assert.equal(
      (await pollRepayments(deps, { limit: 100, concurrency: 1 })).examined,
      0,
      'settled bookings leave the index',
    );
    assert.equal(wechatpay.sent.filter((r) => r.method === 'GET').length, 12, 'one query each');
  });

  it('counts a booking WeChat Pay could not be asked about, moves it along its backoff, and goes on with the others', async () => {
    const { deps, clock, store } = await lostBookings((id) => (id === 'R3' ? 'down' : 'found'));
    clock.now += 60_000;
    const errors: string[] = [];
    const report = await pollRepayments(deps, {
      limit: 100,
      concurrency: 3,
      onError: (id) => errors.push(id),
    });
    assert.deepEqual([report.examined, report.failed, report.settled.SCHEDULED], [12, 1, 11]);
    assert.deepEqual(errors, ['R3']);
    const r3 = (await store.get('R3')) as BookingRecord;
    assert.deepEqual([r3.state, r3.poll_count], ['SCHEDULE_UNKNOWN', 1]);
    assert.equal(
      (await pollRepayments(deps, { limit: 100, concurrency: 1 })).examined,
      0,
      'not again before its backoff',
    );
  });

  it('stops starting work when told to', async () => {
    const { deps, clock } = await lostBookings(() => 'found');
    clock.now += 60_000;
    let budget = 4;
    const report = await pollRepayments(deps, {
      limit: 100,
      concurrency: 1,
      shouldStop: () => budget-- <= 0,
    });
    assert.equal(report.examined, 4);
  });
});
