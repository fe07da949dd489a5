import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotificationRejected } from '../../../../lib/errors';
import {
  DEDUCT_PATH,
  deductOrderPath,
  deductOrderQuery,
  deductRequest,
  isDeductOrderState,
  parseDeductionPay,
  parseDeductOrder,
  parseScheduleRecord,
  parseScheduleResponse,
  SCHEDULE_PATH,
  scheduleRecordPath,
  scheduleRecordQuery,
  scheduleRequest,
} from '../../../../lib/wechatpay/repayments';

const PARTNER = '/v3/credit-repayment/partner';

const ORDER = {
  out_trade_no: 'T20261201001',
  out_record_id: 'R20261201001',
  appid: 'wxd678efh567hg6787',
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  contract_id: '20261201000000000000000000000001',
  description: '信贷还款',
  order_state: 'DEDUCT_ORDER_STATE_PAY_SUCCESS',
  deduct_amount: '5000',
  pay_success_amount: '4000',
  transaction_id: '4200000000202612010000000001',
};

describe('repayment paths', () => {
  it('match the documented endpoints', () => {
    assert.equal(SCHEDULE_PATH, `${PARTNER}/schedule-records/batch-create`);
    assert.equal(DEDUCT_PATH, `${PARTNER}/deduct-orders`);
    assert.equal(scheduleRecordPath('R1', 'C1'), `${PARTNER}/schedule-records/R1?contract_id=C1`);
    assert.equal(deductOrderPath('T1'), `${PARTNER}/deduct-orders/T1`);
  });

  it('percent-encode path segments and the query value, so the signed URL is the one sent', () => {
    assert.equal(
      scheduleRecordPath('a/b?c', 'x&y=z #'),
      `${PARTNER}/schedule-records/a%2Fb%3Fc?contract_id=x%26y%3Dz%20%23`,
    );
    assert.equal(deductOrderPath('T 1/2'), `${PARTNER}/deduct-orders/T%201%2F2`);
    assert.deepEqual(scheduleRecordQuery('R1', 'C1'), {
      method: 'GET',
      path: `${PARTNER}/schedule-records/R1?contract_id=C1`,
    });
    assert.deepEqual(deductOrderQuery('T1'), { method: 'GET', path: `${PARTNER}/deduct-orders/T1` });
  });
});

describe('scheduleRequest', () => {
  const input = {
    contract_id: 'C1',
    appid: 'wx1',
    openid: 'o1',
    out_record_id: 'R1',
    sub_mchid: '1900000109',
    repayment_amount: '10000',
    repayment_date: '2026-12-05',
  };

  it('sends exactly one schedule item, keys in the documented order, no absent optional key', () => {
    const request = scheduleRequest(input);
    assert.equal(request.method, 'POST');
    assert.equal(request.path, SCHEDULE_PATH);
    assert.equal(
      JSON.stringify(request.body),
      '{"contract_id":"C1","appid":"wx1","openid":"o1","schedule_items":[{"out_record_id":"R1",' +
        '"sub_mchid":"1900000109","repayment_amount":"10000","repayment_date":"2026-12-05"}]}',
    );
  });

  it('carries sub_appid and min_repayment_amount when given', () => {
    const body = scheduleRequest({ ...input, sub_appid: 'wx2', min_repayment_amount: '500' }).body as {
      schedule_items: Record<string, unknown>[];
    };
    assert.deepEqual(Object.keys(body.schedule_items[0] ?? {}), [
      'out_record_id',
      'sub_mchid',
      'sub_appid',
      'repayment_amount',
      'min_repayment_amount',
      'repayment_date',
    ]);
    assert.equal(body.schedule_items.length, 1);
  });
});

describe('deductRequest', () => {
  const input = {
    contract_id: 'C1',
    out_trade_no: 'T1',
    out_record_id: 'R1',
    deduct_amount: '10000',
    notify_url: 'https://example.com/wechatpay/notifications',
    description: '信贷还款',
  };

  it('sends the amount as a string, attach only when given', () => {
    const request = deductRequest(input);
    assert.equal(request.path, DEDUCT_PATH);
    assert.equal(
      JSON.stringify(request.body),
      '{"contract_id":"C1","out_trade_no":"T1","out_record_id":"R1","deduct_amount":"10000",' +
        '"notify_url":"https://example.com/wechatpay/notifications","description":"信贷还款"}',
    );
    assert.equal((deductRequest({ ...input, attach: 'a' }).body as { attach?: string }).attach, 'a');
  });
});

describe('parseScheduleResponse and parseScheduleRecord', () => {
  it('reads the records, amounts as strings (numbers tolerated), unknown fields kept in extra', () => {
    const [record, ...rest] = parseScheduleResponse({
      schedule_records: [
        {
          out_record_id: 'R1',
          appid: 'wx1',
          contract_id: 'C1',
          repayment_amount: 10000,
          min_repayment_amount: '500',
          repayment_date: '2026-12-05',
          openid: 'o1',
          record_state: 'NEW',
        },
      ],
    });
    assert.equal(rest.length, 0);
    assert.deepEqual(record, {
      out_record_id: 'R1',
      appid: 'wx1',
      contract_id: 'C1',
      repayment_amount: '10000',
      min_repayment_amount: '500',
      repayment_date: '2026-12-05',
      openid: 'o1',
      extra: { record_state: 'NEW' },
    });
  });

  it('an empty 2xx answer means booked with no echo', () => {
    assert.deepEqual(parseScheduleResponse(undefined), []);
    assert.deepEqual(parseScheduleResponse({}), []);
  });

  it('names the field of a wrong shape', () => {
    assert.throws(() => parseScheduleResponse([]), /batch-create response is not a JSON object/);
    assert.throws(() => parseScheduleResponse({ schedule_records: {} }), /schedule_records is not an array/);
    assert.throws(
      () => parseScheduleResponse({ schedule_records: [{ repayment_amount: '1' }] }),
      /schedule_records\[0\] is missing out_record_id/,
    );
    assert.throws(
      () => parseScheduleRecord({ out_record_id: 'R1', repayment_amount: '12.5' }),
      /schedule record repayment_amount is not a whole number of fen/,
    );
    assert.throws(() => parseScheduleRecord({ out_record_id: { id: 1 } }), /out_record_id is not a string/);
    assert.throws(() => parseScheduleRecord('R1'), /schedule record is not a JSON object/);
  });
});

describe('parseDeductOrder', () => {
  it('reads every documented field and keeps unknown ones', () => {
    assert.deepEqual(parseDeductOrder({ ...ORDER, sub_appid: 'wx2', bank_type: 'CMB' }), {
      ...ORDER,
      sub_appid: 'wx2',
      extra: { bank_type: 'CMB' },
    });
  });

  it('leaves the optional amounts and ids absent, and keeps a state it does not know as a string', () => {
    const { pay_success_amount: _, transaction_id: __, ...pending } = ORDER;
    const order = parseDeductOrder({
      ...pending,
      order_state: 'DEDUCT_ORDER_STATE_NEW_ONE',
      deduct_amount: 5000,
    });
    assert.equal('pay_success_amount' in order, false);
    assert.equal('transaction_id' in order, false);
    assert.equal('extra' in order, false);
    assert.equal(order.deduct_amount, '5000');
    assert.equal(order.order_state, 'DEDUCT_ORDER_STATE_NEW_ONE');
    assert.equal(isDeductOrderState(order.order_state), false);
    assert.equal(isDeductOrderState('DEDUCT_ORDER_STATE_NOT_PAY'), true);
  });

  for (const field of ['out_trade_no', 'out_record_id', 'contract_id', 'order_state', 'deduct_amount']) {
    it(`refuses an order without ${field}, naming it`, () => {
      const { [field as keyof typeof ORDER]: _, ...rest } = ORDER;
      assert.throws(() => parseDeductOrder(rest), new RegExp(`deduct order is missing ${field}$`));
    });
  }

  it('refuses amounts that are not whole fen, naming the field', () => {
    for (const bad of ['-1', '1.5', '1e3', ' 1', '', 1.5, -1, true, {}]) {
      assert.throws(
        () => parseDeductOrder({ ...ORDER, pay_success_amount: bad }),
        /deduct order pay_success_amount is not a whole number of fen/,
        JSON.stringify(bad),
      );
    }
  });
});

describe('parseDeductionPay', () => {
  const resource = { sp_mchid: '1900000100', sub_mchid: '1900000109', ...ORDER, attach: 'x' };

  it('reads the resource with the merchant ids, amounts as strings and unknown fields kept', () => {
    assert.deepEqual(parseDeductionPay({ ...resource, deduct_amount: 5000, next: 1 }), {
      ...resource,
      extra: { next: 1 },
    });
  });

  it('accepts a success without pay_success_amount or transaction_id', () => {
    const { pay_success_amount: _, transaction_id: __, ...bare } = resource;
    const parsed = parseDeductionPay(bare);
    assert.equal(parsed.pay_success_amount, undefined);
    assert.equal(parsed.transaction_id, undefined);
  });

  it('throws NotificationRejected naming the field it cannot use', () => {
    const { out_record_id: _, ...missing } = resource;
    assert.throws(
      () => parseDeductionPay(missing),
      (e: unknown) =>
        e instanceof NotificationRejected &&
        /DEDUCTION_PAY resource is missing out_record_id/.test(e.message),
    );
    assert.throws(
      () => parseDeductionPay({ ...resource, deduct_amount: 'ten' }),
      /deduct_amount is not a whole/,
    );
    assert.throws(() => parseDeductionPay(null), NotificationRejected);
  });
});
