/**
 * Malformed booking and deduct requests: each is 400 VALIDATION_FAILED naming the field (a JSON pointer, `""`
 * for the whole body, or the path parameter), and none writes anything or reaches WeChat Pay.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newRecordId, type RepaymentHarness, startRepaymentHarness } from '../support/repayments/harness';

type Case = [why: string, route: 'book' | 'deduct' | 'deduct R-1' | 'get R-1', body: unknown, field: string];

const good = (over: Record<string, unknown>) => ({
  out_record_id: 'RBADINPUT1',
  repayment_amount: '5000',
  min_repayment_amount: '1000',
  repayment_date: 'TOMORROW',
  ...over,
});

const CASES: Case[] = [
  ['out_record_id missing', 'book', good({ out_record_id: undefined }), '/out_record_id'],
  ['out_record_id with a dash', 'book', good({ out_record_id: 'R-1' }), '/out_record_id'],
  ['out_record_id of 33 characters', 'book', good({ out_record_id: 'R'.repeat(33) }), '/out_record_id'],
  ['out_record_id a number', 'book', good({ out_record_id: 1 }), '/out_record_id'],
  ['out_record_id empty', 'book', good({ out_record_id: '' }), '/out_record_id'],
  ['out_record_id in Chinese', 'book', good({ out_record_id: '还款一' }), '/out_record_id'],
  ['repayment_amount missing', 'book', good({ repayment_amount: undefined }), '/repayment_amount'],
  ['repayment_amount a number', 'book', good({ repayment_amount: 5000 }), '/repayment_amount'],
  ['repayment_amount zero', 'book', good({ repayment_amount: '0' }), '/repayment_amount'],
  ['repayment_amount negative', 'book', good({ repayment_amount: '-100' }), '/repayment_amount'],
  ['repayment_amount with a leading zero', 'book', good({ repayment_amount: '05000' }), '/repayment_amount'],
  ['repayment_amount fractional', 'book', good({ repayment_amount: '50.5' }), '/repayment_amount'],
  ['repayment_amount of 16 digits', 'book', good({ repayment_amount: '1'.repeat(16) }), '/repayment_amount'],
  [
    'repayment_amount over the contract limit',
    'book',
    good({ repayment_amount: '10001' }),
    '/repayment_amount',
  ],
  [
    'min_repayment_amount over repayment_amount',
    'book',
    good({ min_repayment_amount: '5001' }),
    '/min_repayment_amount',
  ],
  ['min_repayment_amount zero', 'book', good({ min_repayment_amount: '0' }), '/min_repayment_amount'],
  ['min_repayment_amount null', 'book', good({ min_repayment_amount: null }), '/min_repayment_amount'],
  ['repayment_date today', 'book', good({ repayment_date: 'TODAY' }), '/repayment_date'],
  ['repayment_date 15 days ahead', 'book', good({ repayment_date: 'DAY15' }), '/repayment_date'],
  ['repayment_date with slashes', 'book', good({ repayment_date: '2026/12/02' }), '/repayment_date'],
  ['repayment_date not on the calendar', 'book', good({ repayment_date: '2026-02-30' }), '/repayment_date'],
  [
    'repayment_date a timestamp',
    'book',
    good({ repayment_date: '2026-12-02T00:00:00+08:00' }),
    '/repayment_date',
  ],
  ['repayment_date a number', 'book', good({ repayment_date: 20261202 }), '/repayment_date'],
  ['auto_deduct a string', 'book', good({ auto_deduct: 'true' }), '/auto_deduct'],
  ['description empty', 'book', good({ description: '' }), '/description'],
  ['description with an emoji', 'book', good({ description: '还款😀' }), '/description'],
  ['description of 128 characters', 'book', good({ description: 'd'.repeat(128) }), '/description'],
  ['description with a newline', 'book', good({ description: 'a\nb' }), '/description'],
  ['sub_appid with a dash', 'book', good({ sub_appid: 'wx-sub' }), '/sub_appid'],
  ['an unknown field', 'book', good({ foo: 1 }), '/foo'],
  ['notify_url (we set it)', 'book', good({ notify_url: 'https://x.example/n' }), '/notify_url'],
  ['openid (the contract has it)', 'book', good({ openid: 'o-someone' }), '/openid'],
  ['a JSON array', 'book', '[]', ''],
  ['a JSON string', 'book', '"x"', ''],
  ['JSON null', 'book', 'null', ''],
  ['not JSON', 'book', '{"out_record_id":', ''],
  ['an empty body', 'book', '', ''],
  ['out_trade_no with an underscore', 'deduct', { out_trade_no: 'T_1' }, '/out_trade_no'],
  ['out_trade_no of 33 characters', 'deduct', { out_trade_no: 'T'.repeat(33) }, '/out_trade_no'],
  ['deduct_amount below the minimum', 'deduct', { deduct_amount: '999' }, '/deduct_amount'],
  ['deduct_amount over repayment_amount', 'deduct', { deduct_amount: '5001' }, '/deduct_amount'],
  ['deduct_amount a number', 'deduct', { deduct_amount: 5000 }, '/deduct_amount'],
  ['deduct_amount with a leading zero', 'deduct', { deduct_amount: '01000' }, '/deduct_amount'],
  ['attach of 129 characters', 'deduct', { attach: 'a'.repeat(129) }, '/attach'],
  ['description with a tab', 'deduct', { description: 'a\tb' }, '/description'],
  ['contract_id (we set it)', 'deduct', { contract_id: 'CID1' }, '/contract_id'],
  ['a deduct body that is an array', 'deduct', '[{}]', ''],
  ['a deduct body that is not JSON', 'deduct', 'deduct now', ''],
  ['a path id with a dash (deduct)', 'deduct R-1', {}, 'out_record_id'],
  ['a path id with a dash (query)', 'get R-1', undefined, 'out_record_id'],
];

describe('malformed repayment requests', () => {
  let h: RepaymentHarness;
  let code = '';
  let due = '';
  let snapshot = '';
  let wechatpayCalls = 0;

  const repaymentCalls = () =>
    h.simulator.requests().filter((r) => /schedule-records|deduct-orders/.test(r.url)).length;
  const dates: Record<string, () => string> = {
    TOMORROW: () => h.day(1),
    TODAY: () => h.day(0),
    DAY15: () => h.day(15),
  };
  const withDates = (body: unknown) =>
    typeof body === 'object' && body !== null && 'repayment_date' in body
      ? {
          ...body,
          repayment_date:
            dates[String((body as { repayment_date: unknown }).repayment_date)]?.() ??
            (body as { repayment_date: unknown }).repayment_date,
        }
      : body;

  before(async () => {
    h = await startRepaymentHarness();
    const booked = await h.dueBooking();
    code = booked.contract.out_contract_code;
    due = booked.id;
    snapshot = JSON.stringify(await h.stack.scan('repayments'));
    wechatpayCalls = repaymentCalls();
  });
  after(async () => {
    await h?.close();
  });

  test(`the corpus holds ${CASES.length} malformed bodies, at least 30`, () => {
    assert.ok(CASES.length >= 30);
    assert.equal(new Set(CASES.map(([why]) => why)).size, CASES.length, 'each case once');
  });

  for (const [why, route, body, field] of CASES) {
    test(`${why}: 400 VALIDATION_FAILED naming ${field || '""'}`, async () => {
      const path = {
        book: `/contracts/${code}/repayments`,
        deduct: `/repayments/${due}/deduct`,
        'deduct R-1': '/repayments/R-1/deduct',
        'get R-1': '/repayments/R-1',
      }[route];
      const method = route.startsWith('get') ? 'GET' : 'POST';
      const res = await h.request(method, path, withDates(body));
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.code, 'VALIDATION_FAILED');
      const fields = (res.body.errors as { field: string }[]).map((e) => e.field);
      assert.ok(fields.includes(field), `${JSON.stringify(fields)} names ${field}`);
    });
  }

  test('nothing was written and WeChat Pay was never asked', async () => {
    assert.equal(JSON.stringify(await h.stack.scan('repayments')), snapshot);
    assert.equal(repaymentCalls(), wechatpayCalls);
    assert.ok(await h.stored(due));
    assert.equal(await h.stored(newRecordId()), undefined);
  });
});
