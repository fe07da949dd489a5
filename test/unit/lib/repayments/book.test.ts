import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BookingInProgress,
  ContractNotFound,
  ContractStateConflict,
  DependencyUnavailable,
  RepaymentIdUsed,
  ValidationFailed,
  WechatPayRejected,
  WechatPayUnavailable,
} from '../../../../lib/errors';
import { book } from '../../../../lib/repayments/book';
import type { BookingRecord } from '../../../../lib/repayments/model';
import { SCHEDULE_PATH } from '../../../../lib/wechatpay/repayments';
import {
  bookingBody,
  CONTRACT,
  memoryDeps,
  type Reply,
  scriptedWechatPay,
} from '../../../support/repayments/fixtures';

const refusal = (status = 400) =>
  new WechatPayRejected({ status, code: 'PARAM_ERROR', message: 'bad', request_id: 'r1' });
const lost = () => new WechatPayUnavailable('timed out after 1500 ms');

/** A booking answered by `replies` in turn (the last one repeats). */
function setup(...replies: Reply[]) {
  let n = 0;
  const wechatpay = scriptedWechatPay(() => replies[Math.min(n++, replies.length - 1)] as Reply);
  return { wechatpay, ...memoryDeps(wechatpay) };
}
const echo: Reply = { json: { schedule_records: [{ out_record_id: 'R1', repayment_amount: '5000' }] } };
const stored = async (store: ReturnType<typeof setup>['store']) => (await store.get('R1')) as BookingRecord;

describe('book', () => {
  it("claims the id, sends the contract's ids with the booking, and records it SCHEDULED, in the due index", async () => {
    const { deps, store, wechatpay } = setup(echo);
    const { record, replayed } = await book(deps, 'LOAN1', bookingBody({ auto_deduct: true }));
    assert.equal(replayed, false);
    assert.equal(record.state, 'SCHEDULED');
    assert.deepEqual(wechatpay.sent, [
      {
        method: 'POST',
        path: SCHEDULE_PATH,
        body: {
          contract_id: 'CID1',
          appid: CONTRACT.appid,
          openid: CONTRACT.openid,
          schedule_items: [
            {
              out_record_id: 'R1',
              sub_mchid: CONTRACT.sub_mchid,
              repayment_amount: '5000',
              min_repayment_amount: '1000',
              repayment_date: '2026-12-02',
            },
          ],
        },
      },
    ]);
    const saved = await stored(store);
    assert.equal(saved.state, 'SCHEDULED');
    assert.match(String(saved.due_shard), /^2026-12-02#\d+$/);
    assert.equal(saved.poll_at, undefined);
    assert.equal(
      JSON.stringify([...store.items.values()]).includes(String(CONTRACT.openid)),
      false,
      'no openid stored',
    );
  });

  it('replays the identical request without calling WeChat Pay; another body with the id is a conflict', async () => {
    const { deps, wechatpay } = setup(echo);
    await book(deps, 'LOAN1', bookingBody());
    const again = await book(deps, 'LOAN1', { ...bookingBody(), repayment_amount: '5000' });
    assert.equal(again.replayed, true);
    assert.equal(wechatpay.sent.filter((r) => r.method === 'POST').length, 1);
    await assert.rejects(book(deps, 'LOAN1', bookingBody({ repayment_amount: '6000' })), RepaymentIdUsed);
  });

  it('refuses before any claim: unknown or unsigned contracts, bad fields, a KMS failure', async () => {
    const { deps, store, contracts, wechatpay } = setup(echo);
    await assert.rejects(book(deps, 'NOPE', bookingBody()), ContractNotFound);
    contracts.items.set('LOAN2', { ...CONTRACT, out_contract_code: 'LOAN2', state: 'TERMINATED' });
    await assert.rejects(
      book(deps, 'LOAN2', bookingBody()),
      (e) => e instanceof ContractStateConflict && e.state === 'TERMINATED',
    );
    await assert.rejects(book(deps, 'LOAN1', bookingBody({ repayment_amount: '10001' })), ValidationFailed);
    deps.loanTypes.set(CONTRACT.plan_id, 'CONSUMER_LOAN');
    await assert.rejects(book(deps, 'LOAN1', bookingBody({ min_repayment_amount: '100' })), ValidationFailed);
    deps.loanTypes.clear();
    wechatpay.sign = async () => Promise.reject(new DependencyUnavailable('KMS', 'Sign throttled'));
    await assert.rejects(book(deps, 'LOAN1', bookingBody()), DependencyUnavailable);
    assert.deepEqual(store.writes, [], 'nothing claimed');
    assert.deepEqual(wechatpay.sent, []);
  });

  it('a refusal of the first attempt burns the id: SCHEDULE_FAILED, 502, and the retry is a conflict', async () => {
    const { deps, store, wechatpay } = setup({ error: refusal() });
    await assert.rejects(book(deps, 'LOAN1', bookingBody()), WechatPayRejected);
    const saved = await stored(store);
    assert.equal(saved.state, 'SCHEDULE_FAILED');
    assert.deepEqual(saved.wechatpay_error, {
      status: 400,
      code: 'PARAM_ERROR',
      message: 'bad',
      request_id: 'r1',
    });
    await assert.rejects(
      book(deps, 'LOAN1', bookingBody()),
      (e) => e instanceof RepaymentIdUsed && e.state === 'SCHEDULE_FAILED',
    );
    assert.equal(wechatpay.sent.length, 1);
  });

  it('a lost answer is SCHEDULE_UNKNOWN (503), even when a retry was then refused; the identical retry asks the query', async () => {
    const { deps, store, wechatpay } = setup({ error: lost() }, { error: refusal() });
    await assert.rejects(book(deps, 'LOAN1', bookingBody()), WechatPayUnavailable);
    assert.equal((await stored(store)).state, 'SCHEDULE_UNKNOWN');
    assert.deepEqual(
      wechatpay.sent.map((r) => r.method),
      ['POST', 'POST'],
      'the identical body was resent once, then refused: that proves nothing',
    );
    wechatpay.call = async (request) => {
      wechatpay.sent.push({ method: request.method, path: request.path });
      return scriptedWechatPay(() => ({ json: { out_record_id: 'R1' } })).call(request);
    };
    const replay = await book(deps, 'LOAN1', bookingBody());
    assert.equal(replay.replayed, true);
    assert.equal(replay.record.state, 'SCHEDULED');
    assert.equal(
      wechatpay.sent.at(-1)?.method,
      'GET',
      'settled by the schedule-record query, not a second booking',
    );
  });

  it("recognises its own claim when the store's retry meets its first write, and books", async () => {
    const { deps, store, wechatpay } = setup(echo);
    const claim = store.claim.bind(store);
    // What an SDK retry of a put that had landed sees: the item is there, written by this very attempt.
    store.claim = async (record) => {
      await claim(record);
      return claim(record);
    };
    const { record } = await book(deps, 'LOAN1', bookingBody());
    assert.equal(record.state, 'SCHEDULED');
    assert.equal(wechatpay.sent.length, 1);
  });

  it('the identical request while the first is in flight is BOOKING_IN_PROGRESS', async () => {
    const first = setup(echo);
    await book(first.deps, 'LOAN1', bookingBody());
    const inFlight: BookingRecord = { ...(await stored(first.store)), state: 'SCHEDULING', version: 1 };
    const { deps, store, wechatpay } = setup(echo);
    await store.claim(inFlight);
    await assert.rejects(book(deps, 'LOAN1', bookingBody()), BookingInProgress);
    assert.deepEqual(wechatpay.sent, []);
  });
});
