import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DependencyUnavailable, WechatPayThrottled, WechatPayUnavailable } from '../../../../lib/errors';
import { book } from '../../../../lib/repayments/book';
import { type DayDeps, runPage } from '../../../../lib/repayments/day';
import { emptyCounts, type PageOutput } from '../../../../lib/repayments/day-model';
import { deduct } from '../../../../lib/repayments/deduct';
import { DUE_SHARDS, shardOf } from '../../../../lib/repayments/indexes';
import { withOrderFacts } from '../../../../lib/repayments/lifecycle';
import type { BookingRecord } from '../../../../lib/repayments/model';
import type { WechatPayRequest } from '../../../../lib/wechatpay/client';
import { DEDUCT_PATH } from '../../../../lib/wechatpay/repayments';
import {
  bookingBody,
  DAY_MS,
  memoryDeps,
  orderFor,
  type Reply,
  scriptedWechatPay,
} from '../../../support/repayments/fixtures';
import { MemoryDayStore } from '../../../support/repayments/memory-day-store';

const PENDING = 'DEDUCT_ORDER_STATE_PENDING';
const DATE = '2026-12-02';
const kmsThrottle = () =>
  new DependencyUnavailable('KMS', 'Sign failed: ThrottlingException: Rate exceeded', {
    cause: Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
  });

/** `count` bookings due tomorrow, the clock moved to their date; `answer` answers every deduct order. */
async function dueDay(
  count: number,
  answer: (body: Record<string, unknown>) => Reply = (b) => ({ json: orderFor(b, PENDING) }),
) {
  const throttle = { signs: 0 };
  const scripted = scriptedWechatPay((request: WechatPayRequest) => {
    if (request.path.includes('schedule-records')) return { json: { schedule_records: [] } };
    return answer((request.body ?? {}) as Record<string, unknown>);
  });
  const wechatpay = {
    ...scripted,
    sign: async (request: WechatPayRequest) => {
      if (throttle.signs > 0) {
        throttle.signs--;
        throw kmsThrottle();
      }
      return scripted.sign(request);
    },
  };
  const parts = memoryDeps(wechatpay);
  const ids = Array.from({ length: count }, (_, i) => `R${String(i).padStart(4, '0')}`);
  for (const id of ids) await book(parts.deps, 'LOAN1', bookingBody({ out_record_id: id }));
  parts.clock.now += DAY_MS;
  const day = new MemoryDayStore(parts.store);
  const deps: DayDeps = {
    ...parts.deps,
    day,
    isThrottle: (e) =>
      e instanceof WechatPayThrottled || (e instanceof DependencyUnavailable && /Throttling/.test(e.message)),
  };
  const orders = () => scripted.sent.filter((r) => r.method === 'POST' && r.path === DEDUCT_PATH);
  const inShard = (shard: number) => ids.filter((id) => shardOf(id, DUE_SHARDS) === shard);
  return { ...parts, deps, day, ids, orders, throttle, inShard };
}

const options = { pageSize: 3, concurrency: 2, shouldStop: () => false };
const page = (deps: DayDeps, shard: number, extra: Partial<PageOutput> = {}) =>
  runPage(deps, { action: 'page', date: DATE, shard, run_id: 'run1', ...extra }, options);

/** The shard holding the most of `ids`. */
const busiest = (inShard: (s: number) => string[]) =>
  Array.from({ length: DUE_SHARDS }, (_, s) => s).sort(
    (a, b) => inShard(b).length - inShard(a).length,
  )[0] as number;

describe('repayment day: one page of a shard', () => {
  it('deducts every due booking of the shard once, page after page, and says done', async () => {
    const { deps, store, orders, inShard, day } = await dueDay(60);
    const shard = busiest(inShard);
    const due = inShard(shard);
    assert.ok(due.length > options.pageSize, 'the shard spans pages');
    const out = await page(deps, shard);
    assert.equal(out.done, true);
    assert.equal(out.counts.ordered, due.length);
    assert.equal(out.cursor, due.at(-1));
    assert.deepEqual(
      orders()
        .map((o) => (o.body as { out_record_id: string }).out_record_id)
        .sort(),
      due,
    );
    for (const id of due) assert.equal((await store.get(id))?.state, 'DEDUCTING');
    assert.ok(day.listed.length >= Math.ceil(due.length / options.pageSize));
    // A second run over the shard finds nothing due: nothing is ordered twice.
    const again = await page(deps, shard);
    assert.deepEqual([again.counts.ordered, again.done, orders().length], [0, true, due.length]);
  });

  it('skips a booking deducted by hand after it was listed, and never orders again after a PAY_FAIL', async () => {
    const { deps, store, orders, inShard } = await dueDay(40);
    const shard = busiest(inShard);
    const [byHand, failed] = inShard(shard) as [string, string];
    // Listed by the job, then deducted by hand before the job reaches it.
    const listDue = deps.day.listDue.bind(deps.day);
    deps.day.listDue = async (...args) => {
      const listed = await listDue(...args);
      if (!(await store.get(byHand))?.orders.length) {
        await deduct(deps, byHand, { out_trade_no: 'HAND1' });
        const r = (await store.get(failed)) as BookingRecord;
        await deduct(deps, failed, { out_trade_no: 'HAND2' });
        const after = (await store.get(failed)) as BookingRecord;
        const facts = { out_trade_no: 'HAND2', order_state: 'DEDUCT_ORDER_STATE_PAY_FAIL' } as const;
        await store.save(withOrderFacts(after, facts, after.updated_at, Date.parse(after.updated_at)) ?? r);
      }
      return listed;
    };
    const out = await page(deps, shard);
    assert.equal((await store.get(failed))?.state, 'FAILED', 'nothing ordered again after PAY_FAIL');
    assert.equal(out.counts.skipped, 2);
    assert.equal(out.counts.ordered, inShard(shard).length - 2);
    const forThem = orders().filter((o) =>
      [byHand, failed].includes((o.body as { out_record_id: string }).out_record_id),
    );
    assert.deepEqual(forThem.map((o) => (o.body as { out_trade_no: string }).out_trade_no).sort(), [
      'HAND1',
      'HAND2',
    ]);
  });

  it('KMS throttling before the claim: the same booking is tried again, counted as throttles, never failed', async () => {
    const { deps, throttle, inShard, orders } = await dueDay(30);
    const shard = busiest(inShard);
    throttle.signs = 5;
    const out = await page(deps, shard);
    assert.deepEqual(
      [out.counts.ordered, out.counts.failed, out.counts.throttled],
      [inShard(shard).length, 0, 5],
    );
    assert.equal(orders().length, inShard(shard).length);
  });

  it('WeChat Pay 429 on every send: the claimed order is sent again with the same out_trade_no, never a second one', async () => {
    let refusals = 7;
    const { deps, inShard, orders, store } = await dueDay(30, (body) => {
      if (refusals-- > 0)
        return { error: new WechatPayUnavailable('HTTP 429 RATELIMIT_EXCEEDED', 'r', { status: 429 }) };
      return { json: orderFor(body, PENDING) };
    });
    const shard = busiest(inShard);
    // One booking at a time, so the count does not hang on how two senders' jittered retries interleave: the
    // first booking's send is answered 429 three times (throttled), its resend three times more (throttled),
    // and the seventh refusal is its third send's first attempt, which is retried and answered.
    const out = await runPage(
      deps,
      { action: 'page', date: DATE, shard, run_id: 'run1' },
      { ...options, concurrency: 1 },
    );
    assert.deepEqual(
      [out.counts.ordered, out.counts.unknown, out.counts.rejected, out.counts.throttled],
      [inShard(shard).length, 0, 0, 2],
    );
    for (const id of inShard(shard)) {
      const record = (await store.get(id)) as BookingRecord;
      assert.equal(record.orders.length, 1, `${id} has one order`);
      assert.equal(record.orders[0]?.order_state, PENDING);
    }
    const sentTradeNos = new Set(orders().map((o) => (o.body as { out_trade_no: string }).out_trade_no));
    assert.equal(sentTradeNos.size, inShard(shard).length, 'resends reuse the claimed out_trade_no');
  });

  it('stopped mid-shard: the cursor is the last settled booking; the next page continues after it', async () => {
    const { deps, inShard, orders } = await dueDay(60);
    const shard = busiest(inShard);
    let started = 0;
    const stopAfter = 2;
    const first = await runPage(
      deps,
      { action: 'page', date: DATE, shard, run_id: 'run1' },
      {
        ...options,
        concurrency: 1,
        shouldStop: () => started++ >= stopAfter + 1,
      },
    );
    assert.equal(first.done, false);
    assert.equal(first.counts.ordered, stopAfter);
    assert.equal(first.cursor, inShard(shard)[stopAfter - 1]);
    const second = await page(deps, shard, { cursor: first.cursor, counts: first.counts });
    assert.deepEqual([second.done, second.counts.ordered], [true, inShard(shard).length]);
    assert.equal(orders().length, inShard(shard).length);
  });

  it('carries the counts it was given', async () => {
    const { deps } = await dueDay(0);
    const counts = { ...emptyCounts(), ordered: 7, throttled: 2 };
    const out = await page(deps, 0, { counts });
    assert.deepEqual(out.counts, counts);
    assert.equal(out.done, true);
  });
});
