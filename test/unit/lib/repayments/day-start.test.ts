import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationFailed } from '../../../../lib/errors';
import { type DayRunInput, dateOf, startDay } from '../../../../lib/repayments/day-start';
import { DUE_SHARDS } from '../../../../lib/repayments/indexes';

describe('repayment day: the start', () => {
  it('runs the Beijing day of a scheduled event’s time, on either side of 16:00 UTC', () => {
    assert.equal(dateOf({ 'detail-type': 'Scheduled Event', time: '2026-11-30T15:59:59Z' }), '2026-11-30');
    assert.equal(dateOf({ 'detail-type': 'Scheduled Event', time: '2026-11-30T16:00:00Z' }), '2026-12-01');
    // EventBridge Scheduler's <aws.scheduler.scheduled-time>, at 08:00 in Beijing.
    assert.equal(dateOf({ time: '2026-12-01T00:00:00Z' }), '2026-12-01');
  });

  it('runs a date given by hand, and names the field when it is not one', () => {
    assert.equal(dateOf({ date: '2026-12-01', time: '2026-12-05T00:00:00Z' }), '2026-12-01');
    for (const event of [{ date: '2026-02-30' }, { date: 20261201 }, {}, null, { time: 'yesterday' }]) {
      assert.throws(
        () => dateOf(event),
        (e) => e instanceof ValidationFailed && e.errors[0]?.field === '/date',
        JSON.stringify(event),
      );
    }
  });

  it('starts one execution named <date>-<time>, whose input holds the date, its id, the shards and the workers', async () => {
    const started: { name: string; input: DayRunInput }[] = [];
    const deps = {
      starter: {
        start: async (name: string, input: DayRunInput) => {
          started.push({ name, input });
          return `arn:aws:states:local:000000000000:execution:m:${name}`;
        },
      },
      clock: () => Date.parse('2026-12-01T00:00:00.123Z'),
      workers: 8,
    };
    const result = await startDay(deps, { date: '2026-12-01' });
    assert.equal(started[0]?.name, '2026-12-01-20261201T000000123Z');
    assert.deepEqual(started[0]?.input, {
      date: '2026-12-01',
      run_id: '2026-12-01-20261201T000000123Z',
      shards: Array.from({ length: DUE_SHARDS }, (_, i) => i),
      workers: 8,
    });
    assert.deepEqual(result, {
      date: '2026-12-01',
      execution_arn: `arn:aws:states:local:000000000000:execution:m:${started[0]?.name}`,
    });
  });
});
