import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  afterCheck,
  backoffMs,
  DUE_SHARDS,
  POLL_SHARDS,
  POLL_WINDOW_MS,
  shardOf,
  withIndexes,
} from '../../../../lib/repayments/indexes';
import type { BookingRecord } from '../../../../lib/repayments/model';
import { DAY_MS, T0 } from '../../../support/repayments/fixtures';

const iso = (ms: number) => new Date(ms).toISOString();

const booking = (overrides: Partial<BookingRecord> = {}): BookingRecord => ({
  pk: 'RECORD#R1',
  out_record_id: 'R1',
  state: 'SCHEDULING',
  origin: 'API',
  contract_id: 'CID1',
  repayment_date: '2026-12-02',
  auto_deduct: true,
  description: 'd',
  orders: [],
  created_at: iso(T0),
  updated_at: iso(T0),
  version: 1,
  ...overrides,
});

describe('the by_due and by_poll index attributes', () => {
  it('puts only SCHEDULED auto_deduct bookings in the due index, under a stable shard of their date', () => {
    const due = withIndexes(booking({ state: 'SCHEDULED' }), booking(), T0);
    assert.equal(due.due_shard, `2026-12-02#${shardOf('R1', DUE_SHARDS)}`);
    assert.equal(
      withIndexes(booking({ state: 'SCHEDULED', auto_deduct: false }), booking(), T0).due_shard,
      undefined,
    );
    assert.equal(
      withIndexes({ ...due, state: 'DEDUCTING' }, due, T0).due_shard,
      undefined,
      'leaves on DEDUCTING',
    );
    assert.equal(due.poll_at, undefined, 'a confirmed booking awaits nothing');
  });

  it('spreads bookings over every shard, each always in the same one', () => {
    const ids = Array.from({ length: 400 }, (_, i) => `R${i}`);
    const used = new Set(ids.map((id) => shardOf(id, DUE_SHARDS)));
    assert.equal(used.size, DUE_SHARDS);
    const first = ids.map((id) => shardOf(id, POLL_SHARDS));
    assert.deepEqual(
      ids.map((id) => shardOf(id, POLL_SHARDS)),
      first,
      'stable',
    );
    assert.ok(first.every((shard) => Number.isInteger(shard) && shard >= 0 && shard < POLL_SHARDS));
  });

  it('starts a wait on entering a polled state or a new order, and keeps it otherwise', () => {
    const claimed = withIndexes(booking(), undefined, T0);
    assert.deepEqual(
      [claimed.poll_shard, claimed.poll_since, claimed.poll_count, claimed.poll_at],
      [String(shardOf('R1', POLL_SHARDS)), iso(T0), 0, iso(T0 + 60_000)],
    );
    const checked = afterCheck(claimed, iso(T0 + 60_000), T0 + 60_000) as BookingRecord;
    const unknown = withIndexes({ ...checked, state: 'SCHEDULE_UNKNOWN' }, checked, T0 + 90_000);
    assert.equal(unknown.poll_count, 0, 'SCHEDULE_UNKNOWN is a new wait');
    const again = withIndexes({ ...unknown, version: unknown.version + 1 }, unknown, T0 + 95_000);
    assert.deepEqual([again.poll_since, again.poll_at], [unknown.poll_since, unknown.poll_at], 'same wait');
  });

  it('backs off minutes, then hours, then daily, and stops after 7 days with poll_exhausted_at set', () => {
    assert.deepEqual(
      Array.from({ length: 13 }, (_, i) => backoffMs(i) / 60_000),
      [1, 2, 4, 8, 15, 30, 60, 120, 240, 480, 720, 1440, 1440],
    );
    let record = withIndexes(booking(), undefined, T0);
    let now = T0;
    let checks = 0;
    while (record.poll_at !== undefined) {
      now = Date.parse(record.poll_at);
      record = afterCheck(record, iso(now), now) as BookingRecord;
      checks++;
      assert.ok(checks < 40, 'the backoff ends');
    }
    assert.ok(
      now - T0 <= POLL_WINDOW_MS && now - T0 > POLL_WINDOW_MS - DAY_MS,
      `last check ${(now - T0) / DAY_MS} days in`,
    );
    assert.equal(record.poll_exhausted_at, iso(now));
    assert.equal(record.poll_shard, undefined, 'out of the index');
    assert.ok(checks >= 14 && checks <= 20, `${checks} checks in 7 days`);
    assert.equal(afterCheck(record, iso(now), now), undefined, 'a booking not waiting is not moved');
  });
});
