import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readRepaymentSettings, readWithRepayments } from '../../../../lib/config/repayment-settings';
import { BASE_ENV } from '../../../support/config/settings';

describe('readRepaymentSettings', () => {
  it('needs REPAYMENTS_TABLE, and no plan loan types by default', () => {
    assert.deepEqual(readRepaymentSettings({ REPAYMENTS_TABLE: ' t ' }), { table: 't', planLoanTypes: {} });
    assert.throws(() => readRepaymentSettings({}), /missing configuration: REPAYMENTS_TABLE /);
  });

  it('WECHATPAY_PLAN_LOAN_TYPES: <plan_id>=CONSUMER_LOAN|CASH_LOAN, comma-separated, spaces ignored', () => {
    const { planLoanTypes } = readRepaymentSettings({
      REPAYMENTS_TABLE: 't',
      WECHATPAY_PLAN_LOAN_TYPES: '4567=CONSUMER_LOAN, plan_2 = CASH_LOAN',
    });
    assert.deepEqual(planLoanTypes, { '4567': 'CONSUMER_LOAN', plan_2: 'CASH_LOAN' });
  });

  it('names every entry that is not <plan_id>=<loan type>, in one error', () => {
    assert.throws(
      () =>
        readRepaymentSettings({
          REPAYMENTS_TABLE: 't',
          WECHATPAY_PLAN_LOAN_TYPES: '4567=MORTGAGE,=CASH_LOAN,4568=CASH_LOAN',
        }),
      (error: Error) =>
        /entry "4567=MORTGAGE" is not <plan_id>=CONSUMER_LOAN or <plan_id>=CASH_LOAN/.test(error.message) &&
        /entry "=CASH_LOAN"/.test(error.message) &&
        !error.message.includes('4568'),
    );
  });

  it('beside the service settings, as the repayment functions read them', () => {
    const s = readWithRepayments(BASE_ENV);
    assert.equal(s.contractsTable, BASE_ENV.CONTRACTS_TABLE);
    assert.equal(s.repayments.table, BASE_ENV.REPAYMENTS_TABLE);
  });
});
