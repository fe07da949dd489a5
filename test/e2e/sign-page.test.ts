import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import type { Simulator } from '../../infra/local/simulator';
import { h5Body, PERSON, uniqueCode } from '../support/contracts/fixtures';
import type { TestStack } from '../support/local/stack';
import { launchChromium, openPhone } from './browser';
import { startE2eStack, waitForState } from './stack';

/* Our API's redirect_url opened in a phone-sized headless Chromium, as a WeChat user would open it. */

describe('WeChat Pay signing page in a browser', () => {
  let stack: TestStack;
  let simulator: Simulator;
  let browser: Browser;

  before(async () => {
    const [started, launched] = await Promise.allSettled([startE2eStack(), launchChromium()]);
    if (started.status === 'fulfilled') stack = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    for (const r of [started, launched]) if (r.status === 'rejected') throw r.reason;
    assert.ok(stack.simulator, 'the e2e stack runs the simulator');
    simulator = stack.simulator;
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  async function presign(): Promise<{ code: string; redirectUrl: string }> {
    // The longest code WeChat Pay allows: one unbroken 64-character word the phone layout must wrap.
    const body = h5Body({ out_contract_code: uniqueCode('E2E').padEnd(64, '0') });
    const res = await stack.request('POST', '/contracts/h5-presign', body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { code: String(body.out_contract_code), redirectUrl: String(res.body.redirect_url) };
  }

  it('presign, agree on the signing page, and GET /contracts/{code} reads SIGNED', async () => {
    const { code, redirectUrl } = await presign();
    const phone = await openPhone(browser);
    try {
      const page = phone.page;
      const res = await page.goto(redirectUrl);
      assert.equal(res?.status(), 200);
      const terms = (await page.locator('dl').textContent()) ?? '';
      for (const shown of [PERSON.display, '123', '¥100.00', '每月1日']) {
        assert.ok(terms.includes(shown), `signing page shows ${shown}: ${terms}`);
      }
      assert.ok((await page.content()).includes(code));
      assert.ok(!(await page.content()).includes(PERSON.name), 'only the masked name is shown');
      await phone.screenshot('sign-page');

      await Promise.all([page.waitForURL((url) => url.pathname === '/sign/agree'), page.click('#agree')]);
      assert.equal(await page.getAttribute('#result', 'data-result'), 'agreed');
      await phone.screenshot('sign-result');

      const record = await waitForState(stack, code, 'SIGNED');
      assert.match(String(record.contract_id), /\S/);
      await stack.drainEvents();
      const types = stack.events.filter((e) => e.detail.out_contract_code === code).map((e) => e.type);
      assert.deepEqual(types, ['ContractPresigned', 'ContractSigned']);
      assert.deepEqual(phone.problems, []);
    } finally {
      await phone.close();
    }
  });

  it('decline sends no callback and the contract stays PRESIGNED', async () => {
    const { code, redirectUrl } = await presign();
    const phone = await openPhone(browser);
    try {
      const page = phone.page;
      assert.equal((await page.goto(redirectUrl))?.status(), 200);
      await Promise.all([page.waitForURL((url) => url.pathname === '/sign/decline'), page.click('#decline')]);
      assert.equal(await page.getAttribute('#result', 'data-result'), 'declined');
      await phone.screenshot('sign-declined');

      // Agreeing sends its first callback before the page answers; give a stray one ample time anyway.
      await sleep(1_000);
      assert.deepEqual(
        simulator.callbacks().filter((d) => d.out_contract_code === code),
        [],
      );
      assert.equal((await stack.request('GET', `/contracts/${code}`)).body.state, 'PRESIGNED');
      // WeChat Pay's own answer agrees: no contract exists, and the token has not lapsed, so not EXPIRED.
      assert.equal((await stack.request('GET', `/contracts/${code}?sync=true`)).body.state, 'PRESIGNED');
      assert.deepEqual(phone.problems, []);
    } finally {
      await phone.close();
    }
  });

  it('an expired link answers 410 with a page saying so', async () => {
    const { redirectUrl } = await presign();
    const phone = await openPhone(browser);
    try {
      const clock = await fetch(`${simulator.url}/sandbox/clock`, {
        method: 'POST',
        body: JSON.stringify({ offset_ms: 11 * 60_000 }),
      });
      assert.equal(clock.status, 200);
      const res = await phone.page.goto(redirectUrl);
      assert.equal(res?.status(), 410);
      const text = (await phone.page.locator('#error').textContent()) ?? '';
      assert.match(text, /签约链接已过期/);
      assert.match(text, /Signing link expired/);
      assert.equal(await phone.page.locator('#agree').count(), 0, 'nothing left to agree to');
      await phone.screenshot('sign-expired');
    } finally {
      await fetch(`${simulator.url}/sandbox/clock`, { method: 'POST', body: '{"offset_ms":0}' });
      await phone.close();
    }
  });
});
