import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type KmsStandIn, startKmsStandIn } from '../../../../infra/local/kms/server';
import { repaymentDayWorkerDeps } from '../../../../lib/config/repayment-day-deps';
import { createRuntime } from '../../../../lib/config/runtime';
import { runPage } from '../../../../lib/repayments/day';
import { DUE_SHARDS, shardOf } from '../../../../lib/repayments/indexes';
import { eventually } from '../../../reliability/helpers/wechatpay';
import {
  finishedRun,
  ordersPerBooking,
  seedDueBookings,
  settleAll,
  startRun,
} from '../../../support/repayments/day';
import { type RepaymentHarness, startRepaymentHarness } from '../../../support/repayments/harness';

// The repayment-day job end to end: the real handlers (repaymentDay, the worker), the same state machine
// definition run by the local Step Functions, DynamoDB Local, the WeChat Pay simulator, and a KMS stand-in of
// this file's own, whose Sign quota the tests lower. Each test books for its own day, so runs never meet.
describe('repayment day: the schedule, a killed worker and its rerun, bookings deducted by hand', () => {
  let h: RepaymentHarness;
  let kms: KmsStandIn;
  before(async () => {
    kms = await startKmsStandIn();
    // WeChat Pay's production timeout (the tests' shorter one loses answers on a busy machine), and a budget
    // of 80 signatures a second (8 workers at 10): every worker runs in this one process here.
    h = await startRepaymentHarness({
      kms: kms.url,
      env: { WECHATPAY_TIMEOUT_MS: '5000', SIGNING_BUDGET_RPS: '80' },
    });
  });
  after(async () => {
    await h?.close();
    await kms?.close();
  });

  /** Every one of `ids` has exactly one deduct order at WeChat Pay. */
  const exactlyOnce = (ids: string[]) => {
    const counts = ordersPerBooking(h, ids);
    const wrong = [...counts].filter(([, n]) => n !== 1);
    assert.deepEqual(wrong, [], 'bookings without exactly one deduct order at WeChat Pay');
  };

  test('the daily schedule runs the Beijing day of its time: a run that finds nothing still completes', async () => {
    const scheduled = await fetch(`${h.stack.api.url}/local/schedules/repaymentDay/run`, { method: 'POST' });
    const ran = (await scheduled.json()) as { result?: { date: string; execution_arn: string } };
    assert.equal(ran.result?.date, h.day());
    const { run } = await finishedRun(h, ran.result?.execution_arn ?? '');
    assert.deepEqual([run.counts.ordered, run.open, run.shards], [0, 0, DUE_SHARDS]);
  });

  test('a worker killed mid-page, then a rerun: no second order, nothing lost', async () => {
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
    exactlyOnce(ids);
  });

  test('bookings already deducted by hand are skipped: only their own order exists', async () => {
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
    exactlyOnce(ids);
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
