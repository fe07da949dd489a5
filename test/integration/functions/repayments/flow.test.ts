import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { uniqueCode } from '../../../support/fixtures';
import { type RepaymentHarness, startRepaymentHarness } from '../../../support/repayments/harness';

describe('repayments: book, deduct, DEDUCTION_PAY', () => {
  let h: RepaymentHarness;
  before(async () => {
    h = await startRepaymentHarness();
  });
  after(async () => {
    await h?.close();
  });

  test('smoke', async () => {
    const contract = await h.signedContract();
    const id = uniqueCode('R').slice(0, 32);
    const booked = await h.request('POST', `/contracts/${contract.out_contract_code}/repayments`, {
      out_record_id: id,
      repayment_amount: '5000',
      min_repayment_amount: '1000',
      repayment_date: h.clock.day(1),
    });
    console.log(booked.status, booked.body);
    h.clock.advance(86_400_000);
    const deducted = await h.request('POST', `/repayments/${id}/deduct`, {});
    console.log(deducted.status, JSON.stringify(deducted.body));
    await new Promise((r) => setTimeout(r, 500));
    const got = await h.request('GET', `/repayments/${id}`);
    console.log(got.status, JSON.stringify(got.body));
    await h.stack.drainEvents();
    console.log(JSON.stringify(h.stack.repaymentEvents, null, 1));
    assert.equal(got.body.state, 'SUCCEEDED');
  });
});
