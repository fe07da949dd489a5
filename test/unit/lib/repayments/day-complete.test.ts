import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { completeDay } from '../../../../lib/repayments/day-complete';
import { emptyCounts } from '../../../../lib/repayments/day-model';
import { repaymentEventsFor } from '../../../../lib/repayments/events';
import { checkEvent } from '../../../support/repayments/event-schemas';
import { T0 } from '../../../support/repayments/fixtures';
import { MemoryDayStore } from '../../../support/repayments/memory-day-store';
import { MemoryRepaymentStore } from '../../../support/repayments/memory-store';

const due = (id: string, shard: number) => ({
  pk: `RECORD#${id}`,
  out_record_id: id,
  state: 'SCHEDULED',
  due_shard: `2026-12-02#${shard}`,
});

describe('repayment day: completion', () => {
  it('sums the shards, counts what is still due in every shard, records the run once', async () => {
    const store = new MemoryRepaymentStore();
    for (const [id, shard] of [
      ['R1', 0],
      ['R2', 15],
      ['R3', 15],
    ] as const)
      store.items.set(`RECORD#${id}`, due(id, shard) as never);
    store.items.set('RECORD#R4', { ...due('R4', 3), due_shard: '2026-12-03#3' } as never);
    const day = new MemoryDayStore(store);
    const input = {
      action: 'complete' as const,
      date: '2026-12-02',
      run_id: '2026-12-02-20261202T000000000Z',
      results: [
        { shard: 0, counts: { ...emptyCounts(), ordered: 3, throttled: 4 }, done: true },
        { shard: 1, counts: { ordered: 2, skipped: 1 }, done: true },
        { shard: 15, counts: { ordered: 1 }, failed: true },
      ],
    };
    const run = await completeDay({ day, clock: () => T0 }, input);
    assert.deepEqual(run.counts, { ...emptyCounts(), ordered: 6, skipped: 1, throttled: 4 });
    assert.equal(run.open, 3, 'R1 and R2, R3 still due on the date; R4 is due on another');
    assert.deepEqual(run.failed_shards, [15]);
    assert.equal(run.shards, 3);
    assert.equal(day.runs.size, 1);
    // A Complete retried after a lost answer writes nothing more.
    await completeDay({ day, clock: () => T0 + 1000 }, input);
    assert.equal(day.runs.size, 1);
  });

  it('announces the run as one RepaymentDayCompleted matching its schema, also a run that found nothing', async () => {
    const day = new MemoryDayStore(new MemoryRepaymentStore());
    const run = await completeDay(
      { day, clock: () => T0 },
      { action: 'complete', date: '2026-12-02', run_id: 'r1', results: [] },
    );
    const events = repaymentEventsFor(undefined, run as never);
    assert.equal(events.length, 1);
    const [event] = events;
    assert.equal(event?.type, 'RepaymentDayCompleted');
    if (event) checkEvent(event);
    assert.equal(event?.detail.event_id, '2026-12-02:r1');
    assert.deepEqual([event?.detail.open, event?.detail.counts], [0, emptyCounts()]);
    assert.deepEqual(
      repaymentEventsFor(run as never, run as never),
      [],
      'redelivered writes announce nothing new',
    );
  });
});
