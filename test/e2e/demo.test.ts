import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { PERSON } from '../support/contracts/fixtures';
import type { TestStack } from '../support/local/stack';
import { launchChromium, openPhone } from './browser';
import { startE2eStack, waitForState } from './stack';

/* A provider's engineer living the whole journey on the demo H5 page, in a phone-sized headless Chromium. */

describe('demo page: form to SIGNED in a browser', () => {
  let stack: TestStack;
  let browser: Browser;

  before(async () => {
    const [started, launched] = await Promise.allSettled([startE2eStack(), launchChromium()]);
    if (started.status === 'fulfilled') stack = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    for (const r of [started, launched]) if (r.status === 'rejected') throw r.reason;
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('submits the pre-filled form, agrees on the signing page, comes back and reads SIGNED', async () => {
    const simulatorOrigin = new URL(stack.simulator?.url ?? '').origin;
    const apiOrigin = new URL(stack.api.url).origin;
    const phone = await openPhone(browser);
    try {
      const page = phone.page;
      assert.equal((await page.goto(`${stack.api.url}/demo`))?.status(), 200);
      const code = await page.inputValue('#f-out_contract_code');
      assert.match(code, /^DEMO[A-Z0-9]+$/);
      assert.equal(await page.inputValue('#f-display_name'), PERSON.display, 'masked from the real name');
      assert.equal(await page.inputValue('#f-limit_yuan'), '100.00');
      await phone.screenshot('demo-form');

      await Promise.all([
        page.waitForURL((url) => url.origin === simulatorOrigin && url.pathname === '/sign'),
        page.click('#submit'),
      ]);
      const signing = new URL(page.url());
      assert.equal(signing.searchParams.get('return_url'), `${apiOrigin}/demo/result`);
      const terms = (await page.locator('dl').textContent()) ?? '';
      assert.ok(terms.includes(PERSON.display) && terms.includes('¥100.00'), terms);
      assert.ok((await page.content()).includes(code));
      await phone.screenshot('demo-sign-page');

      await Promise.all([
        page.waitForURL((url) => url.origin === apiOrigin && url.pathname === '/demo/result'),
        page.click('#agree'),
      ]);
      const result = new URL(page.url());
      assert.equal(result.searchParams.get('out_contract_code'), code);
      assert.equal(result.searchParams.get('result'), 'agreed');
      await page.waitForSelector('#state[data-state="SIGNED"]');
      assert.equal(await page.locator('#state').textContent(), 'SIGNED');
      assert.equal(await page.locator('#code').textContent(), code);
      const record = await waitForState(stack, code, 'SIGNED', 1_000);
      assert.match(String(record.contract_id), /\S/);
      assert.ok((await page.locator('#details').textContent())?.includes(String(record.contract_id)));
      await phone.screenshot('demo-result');
      assert.deepEqual(phone.problems, []);
    } finally {
      await phone.close();
    }
  });

  it("shows the API's validation error next to the field it names, and stays on the page", async () => {
    const phone = await openPhone(browser);
    try {
      const page = phone.page;
      await page.goto(`${stack.api.url}/demo`);
      const code = await page.inputValue('#f-out_contract_code');
      const badId = '110105194912310021';
      await page.fill('#f-identity_id', badId);
      await page.click('#submit');
      await page.waitForSelector('#error:not([hidden])');
      assert.equal(await page.locator('#error-code').textContent(), 'VALIDATION_FAILED');
      const issue = page.locator('.field[data-pointer="/real_identity/identity_id"] .issue');
      assert.ok(await issue.isVisible(), 'the issue is shown under the ID field');
      assert.match((await issue.textContent()) ?? '', /\S/);
      const error = (await page.locator('#error').textContent()) ?? '';
      assert.ok(!error.includes(badId), 'the ID is not echoed back');
      assert.equal(await page.isEnabled('#submit'), true, 'the user can correct and resubmit');
      assert.equal(new URL(page.url()).pathname, '/demo');
      await phone.screenshot('demo-form-error');

      assert.equal((await stack.request('GET', `/contracts/${code}`)).status, 404, 'nothing was stored');
      assert.deepEqual(phone.problems, [`HTTP 400 for POST ${stack.api.url}/contracts/h5-presign`]);
    } finally {
      await phone.close();
    }
  });

  // Last: it moves the stack's test clock a day on.
  it('on the signed contract: books a repayment, moves the test clock to its date, deducts, and sees it repaid', async () => {
    const phone = await openPhone(browser);
    try {
      const page = phone.page;
      await page.goto(`${stack.api.url}/demo`);
      const code = await page.inputValue('#f-out_contract_code');
      await Promise.all([page.waitForURL((url) => url.pathname === '/sign'), page.click('#submit')]);
      await Promise.all([page.waitForURL((url) => url.pathname === '/demo/result'), page.click('#agree')]);
      await page.waitForSelector('#repayments:not([hidden])');
      const tomorrow = new Date(stack.clock.now() + 8 * 3600_000 + 86_400_000).toISOString().slice(0, 10);
      assert.equal(
        await page.inputValue('#f-repayment_date'),
        tomorrow,
        "tomorrow on the test clock, Beijing's date",
      );
      assert.ok(await page.locator('#no-bookings').isVisible());

      await page.click('#book');
      const booking = page.locator('#bookings .booking');
      await page.waitForSelector('#bookings .booking-state[data-state="SCHEDULED"]');
      const id = (await booking.getAttribute('data-record')) ?? '';
      assert.match(id, /^R[0-9A-Z]+$/);
      assert.equal((await stack.request('GET', `/repayments/${id}`)).body.out_contract_code, code);
      assert.equal(await booking.locator('button.deduct').count(), 0, 'not due before its date');
      await phone.screenshot('demo-repayment-booked');

      await booking.locator('button.advance').click();
      await page.waitForSelector('#bookings button.deduct');
      const today = new Date(stack.clock.now() + 8 * 3600_000).toISOString().slice(0, 10);
      assert.equal(today, tomorrow, 'the test clock moved to the booked date');
      await booking.locator('button.deduct').click();
      // The simulator's wallet pays at once; its DEDUCTION_PAY reaches the callback route, and the page sees it.
      await page.waitForSelector('#bookings .booking-state[data-state="SUCCEEDED"]', { timeout: 15_000 });
      assert.match((await booking.locator('.booking-facts').textContent()) ?? '', /PAY_SUCCESS.*¥50\.00/);
      const repaid = (await stack.request('GET', `/repayments/${id}`)).body;
      assert.equal(repaid.state, 'SUCCEEDED');
      assert.equal((repaid.orders as { pay_success_amount?: string }[])[0]?.pay_success_amount, '5000');
      await stack.drainEvents();
      const types = stack.repaymentEvents.filter((e) => e.detail.out_record_id === id).map((e) => e.type);
      assert.deepEqual(types, ['RepaymentScheduled', 'RepaymentDeductionStarted', 'RepaymentSucceeded']);
      await phone.screenshot('demo-repayment-repaid');
      assert.deepEqual(phone.problems, []);
    } finally {
      await phone.close();
    }
  });
});
