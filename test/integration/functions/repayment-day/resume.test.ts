import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { repaymentDayWorkerDeps } from '../../../../lib/config/repayment-day-deps';
import { createRuntime } from '../../../../lib/config/runtime';
import { runPage } from '../../../../lib/repayments/day';
import { DUE_SHARDS, shardOf } from '../../../../lib/repayments/indexes';
import { eventually } from '../../../reliability/helpers/wechatpay';
import {
  assertOneOrderEach,
  finishedRun,
  seedDueBookings,
  settleAll,
  startRun,
  useDayStack,
} from '../../../support/repayments/day';

// The repayment-day job end to end (test/support/repayments/day.ts). Each test books for its own day, so runs
// never meet.
describe('repayment day: the schedule, a killed worker and its rerun, bookings deducted by hand', () => {
  const day = useDayStack(80);

  test('the daily schedule runs the Beijing day of its time: a run that finds nothing still completes', async () => {
    const { h } = day;
    const scheduled = await fetch(`${h.stack.api.url}/local/schedules/repaymentDay/run`, { method: 'POST' });
    const ran = (await scheduled.json()) as { result?: { date: string; execution_arn: string } };
    assert.equal(ran.result?.date, h.day());
    const { run } = await finishedRun(h, ran.result?.execution_arn ?? '');
    assert.deepEqual([run.counts.ordered, run.open, run.shards], [0, 0, DUE_SHARDS]);
  });

  test('a worker killed mid-page, then a rerun: no second order, nothing lost', async () => {
    const { h } = day;
    const ids = await seedDueBookings(h, 120, { perContract: 120 });
    const date = h.day();
    const shard = [...Array(DUE_SHARDS).keys()].sort(
      (a, b) =>
        ids.filter((id) => shardOf(id, DUE_SHARDS) === b).length -
        ids.filter((id) => shardOf(id, DUE_SHARDS) === a).length,
    )[0] as number;
    // The worker's own dependencies, frozen the moment its 4th claim commits: every call after that never
    // returns, as in a Lambda killed there (the claim is written; its order may or may not have been sent).
    const { worker: deps } = (
      await repaymentDayWorkerDeps(createRuntime({ clock: h.stack.clock.now })).load()
    ).lease();
    let claims = 0;
    let killed = false;
    const frozen = <T extends object>(target: T): T =>
      new Proxy(target, {
        get(t, key, receiver) {
          const value = Reflect.get(t, key, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            if (killed) return new Promise(() => {});
            const result = value.apply(t, args);
            if (key === 'startOrder' && ++claims === 4) killed = true;
            return result;
          };
        },
      });
    const dying = {
      ...deps,
      store: frozen(deps.store),
      wechatpay: frozen(deps.wechatpay),
      day: frozen(deps.day),
    };
    void runPage(
      dying,
      { action: 'page', date, shard, run_id: 'killed' },
      { pageSize: 50, concurrency: 3, shouldStop: () => false },
    );
    await eventually('the worker died', () => killed);
    const { run } = await finishedRun(h, await startRun(h, date));
    assert.equal(run.open, 0);
    assert.equal(run.counts.ordered + run.counts.unknown, ids.length - claims, JSON.stringify(run));
    await settleAll(h, ids);
    assertOneOrderEach(h, ids);
  });

  test('bookings already deducted by hand are skipped: only their own order exists', async () => {
    const { h } = day;
    const ids = await seedDueBookings(h, 20, { perContract: 20 });
    const byHand = ids.slice(0, 5);
    for (const [i, id] of byHand.entries()) {
      const res = await h.request('POST', `/repayments/${id}/deduct`, {
        out_trade_no: `HAND${i}${id}`.slice(0, 32),
      });
      assert.equal(res.status, 202, JSON.stringify(res.body));
    }
    const { run } = await finishedRun(h, await startRun(h, h.day()));
    assert.equal(run.counts.ordered + run.counts.unknown, 15);
    assert.equal(run.open, 0);
    await settleAll(h, ids);
    assertOneOrderEach(h, ids);
    for (const [i, id] of byHand.entries()) {
      assert.deepEqual(
        h.simulator
          .deductOrders()
          .filter((o) => o.out_record_id === id)
          .map((o) => o.out_trade_no),
        [`HAND${i}${id}`.slice(0, 32)],
      );
    }
  });
});
