import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../../../reliability/helpers/wechatpay';
import { h5Body } from '../../../support/contracts/fixtures';
import { checkEvent } from '../../../support/repayments/event-schemas';
import {
  newRecordId,
  type RepaymentHarness,
  startRepaymentHarness,
} from '../../../support/repayments/harness';

// The repayment API through the real handlers, against the simulator, DynamoDB Local and the KMS stand-in, all
// on one clock the tests move by days. Every answer is checked against docs/openapi.json, every event against
// its schema in docs/events/.

const SCHEDULE = '/v3/credit-repayment/partner/schedule-records/batch-create';
const DEDUCT = '/v3/credit-repayment/partner/deduct-orders';

describe('repayments: book, deduct, DEDUCTION_PAY', () => {
  let h: RepaymentHarness;
  before(async () => {
    h = await startRepaymentHarness();
  });
  after(async () => {
    await h?.close();
  });

  const sent = (path: string, id: string) =>
    h.simulator.requests().filter((r) => r.method === 'POST' && r.url === path && r.body.includes(`"${id}"`));

  test('book, deduct on the date, DEDUCTION_PAY: SUCCEEDED once, each event matching its schema', async () => {
    const contract = await h.signedContract();
    const id = newRecordId();
    const body = {
      out_record_id: id,
      repayment_amount: '5000',
      min_repayment_amount: '1000',
      repayment_date: h.day(1),
    };
    const booked = await h.request('POST', `/contracts/${contract.out_contract_code}/repayments`, body);
    assert.equal(booked.status, 201, JSON.stringify(booked.body));
    assert.deepEqual(booked.body, {
      out_record_id: id,
      out_contract_code: contract.out_contract_code,
      state: 'SCHEDULED',
      repayment_date: body.repayment_date,
      repayment_amount: '5000',
      min_repayment_amount: '1000',
    });
    const [record] = h.simulator.scheduleRecords().filter((r) => r.out_record_id === id);
    assert.deepEqual(
      [record?.contract_id, record?.openid, record?.sub_mchid],
      [contract.contract_id, contract.openid, contract.sub_mchid],
    );

    const early = await h.request('POST', `/repayments/${id}/deduct`, {});
    assert.equal(early.status, 409);
    assert.deepEqual(
      [early.body.code, early.body.repayment_date],
      ['REPAYMENT_NOT_DUE', body.repayment_date],
    );
    assert.equal(sent(DEDUCT, id).length, 0, 'nothing sent before the date');

    await h.advance(86_400_000);
    const deducted = await h.request('POST', `/repayments/${id}/deduct`, { description: '12月还款' });
    // WeChat Pay answers PENDING and collects right after; its DEDUCTION_PAY may land before our answer is read.
    assert.ok([200, 202].includes(deducted.status), JSON.stringify(deducted.body));
    const [order] = deducted.body.orders as Record<string, unknown>[];
    assert.equal(order?.deduct_amount, '5000');
    await eventually('the repayment is SUCCEEDED', async () => (await h.stored(id))?.state === 'SUCCEEDED');
    const got = await h.request('GET', `/repayments/${id}`);
    assert.equal(got.body.state, 'SUCCEEDED');
    const [paid] = got.body.orders as Record<string, unknown>[];
    const simulated = h.simulator.deductOrders().find((o) => o.out_record_id === id);
    assert.deepEqual(
      [paid?.order_state, paid?.pay_success_amount, paid?.transaction_id],
      ['DEDUCT_ORDER_STATE_PAY_SUCCESS', '5000', simulated?.transaction_id],
    );
    assert.equal(simulated?.description, '12月还款');
    assert.equal(JSON.stringify(got.body).includes(contract.openid ?? '-'), false, 'no openid in our answer');

    const events = await h.eventsOf(id);
    assert.deepEqual(
      events.map((e) => e.type),
      ['RepaymentScheduled', 'RepaymentDeductionStarted', 'RepaymentSucceeded'],
    );
    for (const event of events) checkEvent(event);
    const succeeded = events.at(-1)?.detail;
    assert.deepEqual(
      [succeeded?.out_trade_no, succeeded?.pay_success_amount, succeeded?.contract_id],
      [paid?.out_trade_no, '5000', contract.contract_id],
    );
    assert.equal(sent(SCHEDULE, id).length, 1, 'one booking');
    assert.equal(sent(DEDUCT, id).length, 1, 'one deduct order');
    const deliveries = h.simulator.callbacks().filter((c) => c.out_trade_no === paid?.out_trade_no);
    assert.deepEqual(
      deliveries.map((d) => d.state),
      ['delivered'],
    );
  });

  test('identical replays answer from our record; another body, another booking or a used out_trade_no is a conflict', async () => {
    const contract = await h.signedContract();
    const id = newRecordId();
    const path = `/contracts/${contract.out_contract_code}/repayments`;
    const body = {
      out_record_id: id,
      repayment_amount: '3000',
      repayment_date: h.day(2),
      auto_deduct: false,
    };
    assert.equal((await h.request('POST', path, body)).status, 201);
    const replay = await h.request('POST', path, { ...body });
    assert.equal(replay.status, 200);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.body.state, 'SCHEDULED');
    const other = await h.request('POST', path, { ...body, repayment_amount: '3001' });
    assert.deepEqual(
      [other.status, other.body.code, other.body.state],
      [409, 'REPAYMENT_ID_USED', 'SCHEDULED'],
    );
    assert.equal(sent(SCHEDULE, id).length, 1, 'replays and conflicts never reach WeChat Pay');
    assert.equal(
      (await h.stored(id))?.due_shard,
      undefined,
      'auto_deduct false: not in the repayment-day index',
    );

    await h.advance(2 * 86_400_000);
    const tradeNo = `T${id}`.slice(0, 32);
    const first = await h.request('POST', `/repayments/${id}/deduct`, { out_trade_no: tradeNo });
    assert.ok([200, 202].includes(first.status));
    await eventually('repaid', async () => (await h.stored(id))?.state === 'SUCCEEDED');
    const again = await h.request('POST', `/repayments/${id}/deduct`, { out_trade_no: tradeNo });
    assert.deepEqual(
      [again.status, again.headers.get('idempotent-replayed'), again.body.state],
      [200, 'true', 'SUCCEEDED'],
    );
    const more = await h.request('POST', `/repayments/${id}/deduct`, {});
    assert.deepEqual(
      [more.status, more.body.code, more.body.state],
      [409, 'REPAYMENT_STATE_CONFLICT', 'SUCCEEDED'],
    );
    const changed = await h.request('POST', `/repayments/${id}/deduct`, {
      out_trade_no: tradeNo,
      deduct_amount: '2000',
    });
    assert.deepEqual([changed.status, changed.body.code], [409, 'TRADE_NO_USED']);

    const second = newRecordId();
    assert.equal(
      (
        await h.request('POST', path, {
          out_record_id: second,
          repayment_amount: '3000',
          repayment_date: h.day(1),
        })
      ).status,
      201,
    );
    await h.advance(86_400_000);
    const reused = await h.request('POST', `/repayments/${second}/deduct`, { out_trade_no: tradeNo });
    assert.deepEqual([reused.status, reused.body.code], [409, 'TRADE_NO_USED']);
    assert.equal((await h.stored(second))?.state, 'SCHEDULED', 'the refusal wrote nothing');
    assert.equal(sent(DEDUCT, second).length, 0);
    assert.equal(sent(DEDUCT, id).length, 1);
  });

  test('a contract that is not signed, or unknown, books nothing; WeChat Pay is never asked', async () => {
    const presigned = await h.request('POST', '/contracts/h5-presign', h5Body());
    assert.equal(presigned.status, 201);
    const code = String(presigned.body.out_contract_code);
    const id = newRecordId();
    const body = { out_record_id: id, repayment_amount: '3000', repayment_date: h.day(1) };
    const refused = await h.request('POST', `/contracts/${code}/repayments`, body);
    assert.deepEqual(
      [refused.status, refused.body.code, refused.body.state],
      [409, 'CONTRACT_STATE_CONFLICT', 'PRESIGNED'],
    );
    const unknown = await h.request('POST', '/contracts/NOSUCHCODE1/repayments', body);
    assert.deepEqual([unknown.status, unknown.body.code], [404, 'CONTRACT_NOT_FOUND']);
    assert.equal(await h.stored(id), undefined, 'the id is not claimed: it stays usable');
    assert.equal(sent(SCHEDULE, id).length, 0);
    const missing = await h.request('GET', `/repayments/${id}`);
    assert.deepEqual([missing.status, missing.body.code], [404, 'REPAYMENT_NOT_FOUND']);
    assert.equal((await h.request('GET', `/repayments/${id}?sync=maybe`)).status, 400);
  });

  test('direct invocation books with the same rules, answers the booking body, and throws PascalCase errors', async () => {
    const contract = await h.signedContract();
    const id = newRecordId();
    const event = {
      out_contract_code: contract.out_contract_code,
      out_record_id: id,
      repayment_amount: '4000',
      repayment_date: h.day(3),
    };
    const result = (await h.invoke(event)) as Record<string, unknown>;
    assert.deepEqual(result, {
      out_record_id: id,
      out_contract_code: contract.out_contract_code,
      state: 'SCHEDULED',
      repayment_date: event.repayment_date,
      repayment_amount: '4000',
    });
    assert.deepEqual(await h.invoke(event), result, 'the identical event replays');
    const names = async (e: unknown) => ((await h.invoke(e)) as Error).name;
    assert.equal(await names({ ...event, repayment_amount: '4001' }), 'RepaymentIdUsed');
    assert.equal(
      await names({ ...event, out_record_id: newRecordId(), repayment_amount: 'x' }),
      'ValidationFailed',
    );
    assert.equal(await names({ out_record_id: id }), 'ValidationFailed');
    assert.equal(
      await names({ ...event, out_contract_code: 'NOSUCHCODE2', out_record_id: newRecordId() }),
      'ContractNotFound',
    );
  });
});
