import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ScheduleStatus } from '../../../../infra/local/schedules';
import { DynamoContractStore } from '../../../../lib/aws/dynamo-contract-store';
import { contractDeps } from '../../../../lib/config/deps';
import { createRuntime } from '../../../../lib/config/runtime';
import type { ContractRecord } from '../../../../lib/contracts/model';
import { contractPath, TERMINATE_PATH } from '../../../../lib/wechatpay/credit-repayment';
import { h5Body, PRESIGNED_BY_US, uniqueCode } from '../../../support/contracts/fixtures';
import { startTestStack, type TestStack } from '../../../support/local/stack';

// What reconcile promises, as an operator sees it in `npm start`: nobody runs it by hand. The stack's schedules
// run serverless.yml's rate(5 minutes) at real speed, and `POST /local/clock` moves the whole stack's time
// (service and simulator), so a jump past a slot runs the scheduled reconcile at once. One stack, in order: each
// test's records are its own, and reach their own times as the clock moves on.

const MINUTE = 60;
const DAY = 24 * 60 * MINUTE;

describe('the scheduled reconcile on the test clock', () => {
  let stack: TestStack;

  const state = async (code: string) => (await stack.request('GET', `/contracts/${code}`)).body.state;
  const asked = (code: string) =>
    stack.simulator?.requests().filter((r) => r.method === 'GET' && r.url.endsWith(`/${code}`)).length ?? 0;

  async function reconcileStatus(): Promise<ScheduleStatus> {
    const res = await fetch(`${stack.api.url}/local/schedules`);
    assert.equal(res.status, 200);
    const found = ((await res.json()) as ScheduleStatus[]).find((s) => s.function === 'reconcile');
    assert.ok(found, 'reconcile has a schedule');
    return found;
  }

  /** `POST /local/clock`, then the reconcile run the schedule owes for the slot just passed, finished. */
  async function advanceAndAwaitReconcile(seconds: number): Promise<void> {
    const runs = (await reconcileStatus()).runs;
    const moved = await fetch(`${stack.api.url}/local/clock`, {
      method: 'POST',
      body: JSON.stringify({ advance_s: seconds }),
    });
    assert.equal(moved.status, 200, await moved.text());
    for (const deadline = Date.now() + 60_000; ; await sleep(100)) {
      const status = await reconcileStatus();
      if (status.runs > runs) {
        assert.equal(status.last?.ok, true, status.last?.error);
        return;
      }
      assert.ok(Date.now() < deadline, 'no scheduled reconcile run within 60 s of the advance');
    }
  }

  /** A presign nobody signs (or, with `sign`, that the user signs, its callback delivered). */
  async function presign(sign = false): Promise<string> {
    const body = h5Body();
    const res = await stack.request('POST', '/contracts/h5-presign', body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const code = String(body.out_contract_code);
    if (sign) {
      await stack.simulator?.agree(new URL(String(res.body.redirect_url)).searchParams.get('token') ?? '');
      for (let i = 0; i < 100 && (await state(code)) !== 'SIGNED'; i++) await sleep(50);
      assert.equal(await state(code), 'SIGNED', 'signed through its callback');
    }
    return code;
  }

  before(async () => {
    stack = await startTestStack({ scheduleSpeedup: 1 });
  });
  after(async () => {
    await stack?.close();
  });

  test('a contract terminated inside WeChat Pay, its callback lost, is TERMINATED within one re-check cycle', async () => {
    const code = await presign(true);
    // Terminated at WeChat Pay (the user, in WeChat), and WeChat Pay's TERMINATE_CONTRACT never reaches us.
    const dropped = await fetch(`${stack.simulator?.url}/sandbox/drop-callbacks`, {
      method: 'POST',
      body: '{"count":1}',
    });
    assert.equal(dropped.status, 200);
    const { wechatpay } = await contractDeps(createRuntime({ clock: () => stack.clock.now() })).load();
    await wechatpay.call({
      method: 'POST',
      path: TERMINATE_PATH,
      body: { out_contract_code: code, contract_termination_remark: '用户在微信内解约' },
    });
    for (let i = 0; i < 100; i++) {
      if (stack.simulator?.callbacks().some((c) => c.out_contract_code === code && c.state === 'dropped'))
        break;
      await sleep(50);
    }
    assert.equal(await state(code), 'SIGNED', 'we have not heard');

    // RECONCILE_SIGNED_INTERVAL_S is a day: ten minutes before it, the scheduled runs leave the contract alone.
    await advanceAndAwaitReconcile(DAY - 10 * MINUTE);
    assert.equal(await state(code), 'SIGNED');
    assert.equal(asked(code), 0, 'not asked about before its cycle');
    await advanceAndAwaitReconcile(10 * MINUTE);
    assert.equal(await state(code), 'TERMINATED');
    await stack.drainEvents();
    assert.deepEqual(
      stack.events.filter((e) => e.detail.out_contract_code === code).map((e) => e.type),
      ['ContractPresigned', 'ContractSigned', 'ContractTerminated'],
    );
  });

  test('a lapsed presign reaches EXPIRED through the scheduled reconcile', async () => {
    const code = await presign();
    await advanceAndAwaitReconcile(5 * MINUTE);
    assert.equal(await state(code), 'PRESIGNED', 'its token is still open: not even asked');
    assert.equal(asked(code), 0);
    // The 10-minute token and the 2-minute grace have passed: WeChat Pay's query says "no contract".
    await advanceAndAwaitReconcile(8 * MINUTE);
    assert.equal(await state(code), 'EXPIRED');
  });

  test('200 unsettleable records due first do not stop a settleable one from being settled', async () => {
    const store = new DynamoContractStore(stack.db, String(stack.env.CONTRACTS_TABLE));
    const prefix = uniqueCode('STUCK');
    const now = stack.clock.now();
    const lapsed = (i: number): ContractRecord => ({
      ...PRESIGNED_BY_US,
      out_contract_code: `${prefix}x${i}`,
      state: 'PRESIGN_UNKNOWN',
      created_at: new Date(now - 61 * MINUTE * 1000).toISOString(),
      updated_at: new Date(now - 60 * MINUTE * 1000).toISOString(),
      version: 1,
    });
    for (let i = 0; i < 200; i += 25) {
      await Promise.all(Array.from({ length: 25 }, (_, j) => store.save(lapsed(i + j))));
    }
    // WeChat Pay refuses every query about them, run after run.
    stack.simulator?.injectFault({ path: contractPath(prefix), method: 'GET', count: 100_000, status: 400 });
    const code = await presign();
    const stuckAsked = () =>
      stack.simulator?.requests().filter((r) => r.method === 'GET' && r.url.includes(`/${prefix}x`)).length ??
      0;

    // The schedule's input is {"limit":200}: the first run after the token lapsed is all theirs.
    await advanceAndAwaitReconcile(13 * MINUTE);
    assert.equal(stuckAsked(), 200, 'the 200 were due first and each was asked about');
    assert.equal(asked(code), 0);
    assert.equal(await state(code), 'PRESIGNED');
    // Each moved back in the queue: the next scheduled run reaches the settleable one.
    await advanceAndAwaitReconcile(5 * MINUTE);
    assert.equal(await state(code), 'EXPIRED');
  });
});
