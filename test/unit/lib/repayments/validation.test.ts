import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationFailed } from '../../../../lib/errors';
import type { BookingRecord } from '../../../../lib/repayments/model';
import {
  checkAgainstContract,
  checkPathId,
  deductAmountOf,
  validateBooking,
  validateDeduct,
} from '../../../../lib/repayments/validation';
import { bookingBody, CONTRACT, T0 } from '../../../support/repayments/fixtures';

/** The fields a ValidationFailed names, with each issue. */
function refused(fn: () => unknown): Record<string, string> {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ValidationFailed, String(error));
    return Object.fromEntries(error.errors.map((e) => [e.field, e.issue]));
  }
  assert.fail('accepted');
}

const booking = { repayment_amount: '5000', min_repayment_amount: '1000' } as BookingRecord;

describe('repayment validation', () => {
  it('accepts a booking from tomorrow to 14 days ahead, Beijing dates', () => {
    for (const date of ['2026-12-02', '2026-12-15']) {
      assert.equal(validateBooking(bookingBody({ repayment_date: date }), T0).repayment_date, date);
    }
    const latest = Date.parse('2026-12-01T23:59:59+08:00');
    assert.doesNotThrow(() => validateBooking(bookingBody({ repayment_date: '2026-12-15' }), latest));
  });

  it('names each bad field and its rule', () => {
    assert.match(
      refused(() => validateBooking(bookingBody({ repayment_date: '2026-12-01' }), T0))['/repayment_date'] ??
        '',
      /from 2026-12-02 \(tomorrow\) to 2026-12-15/,
    );
    assert.match(
      refused(() => validateBooking(bookingBody({ repayment_date: '2026-12-16' }), T0))['/repayment_date'] ??
        '',
      /today is 2026-12-01/,
    );
    assert.match(
      refused(() => validateBooking(bookingBody({ repayment_date: '2026-02-30' }), T0))['/repayment_date'] ??
        '',
      /calendar date/,
    );
    assert.match(
      refused(() => validateBooking(bookingBody({ min_repayment_amount: '5001' }), T0))[
        '/min_repayment_amount'
      ] ?? '',
      /not exceed/,
    );
    assert.deepEqual(
      Object.keys(
        refused(() =>
          validateBooking(bookingBody({ out_record_id: 'R-1', repayment_amount: '0100', extra: 1 }), T0),
        ),
      ).sort(),
      ['/extra', '/out_record_id', '/repayment_amount'],
    );
    assert.match(
      refused(() => validateBooking({ ...bookingBody(), auto_deduct: 'yes' }, T0))['/auto_deduct'] ?? '',
      /boolean/,
    );
    assert.match(
      refused(() => validateDeduct({ out_trade_no: 'T_1' }))['/out_trade_no'] ?? '',
      /letters and digits/,
    );
    assert.match(refused(() => validateDeduct({ attach: 'a\tb' }))['/attach'] ?? '', /control/);
    assert.match(refused(() => checkPathId('out_record_id', 'R'.repeat(33))).out_record_id ?? '', /1 to 32/);
  });

  it("checks the contract's limit and sub_appid, and each loan type's minimum where it is configured", () => {
    const input = (over: Record<string, unknown>) => validateBooking(bookingBody(over), T0);
    assert.match(
      refused(() =>
        checkAgainstContract(
          input({ repayment_amount: '10001', min_repayment_amount: '5000' }),
          CONTRACT,
          undefined,
        ),
      )['/repayment_amount'] ?? '',
      /limit \(10000\)/,
    );
    assert.match(
      refused(() =>
        checkAgainstContract(input({ sub_appid: 'wxother' }), { ...CONTRACT, sub_appid: 'wxsub' }, undefined),
      )['/sub_appid'] ?? '',
      /contract's/,
    );
    assert.match(
      refused(() =>
        checkAgainstContract(input({ min_repayment_amount: undefined }), CONTRACT, 'CONSUMER_LOAN'),
      )['/min_repayment_amount'] ?? '',
      /required on a consumer-loan/,
    );
    assert.match(
      refused(() => checkAgainstContract(input({ min_repayment_amount: '249' }), CONTRACT, 'CONSUMER_LOAN'))[
        '/min_repayment_amount'
      ] ?? '',
      /5 %/,
    );
    assert.doesNotThrow(() =>
      checkAgainstContract(input({ min_repayment_amount: '250' }), CONTRACT, 'CONSUMER_LOAN'),
    );
    assert.match(
      refused(() => checkAgainstContract(input({ min_repayment_amount: '499' }), CONTRACT, 'CASH_LOAN'))[
        '/min_repayment_amount'
      ] ?? '',
      /10 %/,
    );
    assert.doesNotThrow(() =>
      checkAgainstContract(input({ min_repayment_amount: undefined }), CONTRACT, 'CASH_LOAN'),
    );
    assert.doesNotThrow(
      () => checkAgainstContract(input({ min_repayment_amount: '1' }), CONTRACT, undefined),
      'unconfigured plan',
    );
  });

  it('deducts the repayment amount by default, and between the minimum and it otherwise', () => {
    assert.equal(deductAmountOf({}, booking), '5000');
    assert.equal(deductAmountOf({ deduct_amount: '1000' }, booking), '1000');
    for (const amount of ['999', '5001']) {
      assert.match(
        refused(() => deductAmountOf({ deduct_amount: amount }, booking))['/deduct_amount'] ?? '',
        /between the booking's minimum \(1000\) and its repayment_amount \(5000\)/,
      );
    }
    assert.equal(
      deductAmountOf({ deduct_amount: '1' }, { repayment_amount: '5000' } as BookingRecord),
      '1',
      'no minimum: 1 fen',
    );
  });
});
