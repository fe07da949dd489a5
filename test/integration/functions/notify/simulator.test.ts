import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SIGN_CONTRACT } from '../../../support/wechatpay/callbacks';
import { type NotifyHarness, startNotifyHarness } from './harness';

/** The simulator is an independent WeChat Pay peer: its own signing, encryption and retries reach our gateway. */
describe('notify: the whole flow with the simulator real callbacks', () => {
  let h: NotifyHarness;

  before(async () => {
    h = await startNotifyHarness('simulator');
  });
  after(async () => {
    const durations =
      h?.stack.simulator?.callbacks().flatMap((d) => d.attempts.map((a) => a.duration_ms)) ?? [];
    console.log(
      `notify latency (simulator): ${durations.length} callbacks answered, slowest ${Math.max(0, ...durations)} ms`,
    );
    await h?.close();
  });

  async function pollUntil(code: string, state: string): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const res = await h.stack.request('GET', `/contracts/${code}`);
      if (res.body.state === state || Date.now() > deadline) return res.body;
      await sleep(50);
    }
  }

  test('presign, the user agrees, the SIGN_CONTRACT callback signs our record; a probe then changes nothing', async () => {
    const sim = h.stack.simulator;
    assert.ok(sim, 'the stack runs the simulator');
    const { code, redirect_url } = await h.presign();
    const token = new URL(redirect_url).searchParams.get('token');
    assert.ok(token, `a token in ${redirect_url}`);

    await sim.agree(token);
    const signed = await pollUntil(code, 'SIGNED');
    assert.equal(signed.state, 'SIGNED', JSON.stringify(signed));
    const theirs = sim.contracts().find((c) => c.out_contract_code === code);
    assert.equal(signed.contract_id, theirs?.contract_id);
    assert.equal(signed.contract_signed_time, theirs?.contract_signed_time);
    const delivery = sim
      .callbacks()
      .find((d) => d.out_contract_code === code && d.event_type === SIGN_CONTRACT);
    assert.equal(delivery?.state, 'delivered');
    assert.deepEqual(
      delivery?.attempts.map((a) => a.status),
      [204],
      'acknowledged on the first send',
    );
    assert.equal((await h.notification(String(delivery?.id)))?.outcome, 'APPLIED');

    const before = await h.snapshot();
    const probe = await sim.sendProbe(code);
    assert.equal(probe.kind, 'probe');
    assert.deepEqual(
      probe.attempts.map((a) => a.status),
      [401],
    );
    assert.deepEqual(await h.snapshot(), before, 'the probe changed nothing');
  });

  // WeChat Pay notifies right after it answers the terminate, so its callback races our recording of that answer,
  // as it does in production: whichever lands second changes nothing, and the contract ends TERMINATED once.
  test('terminate through our API: the TERMINATE_CONTRACT callback is acknowledged, and the termination is applied once whichever lands first', async () => {
    const sim = h.stack.simulator;
    assert.ok(sim);
    const { code, redirect_url } = await h.presign();
    await sim.agree(String(new URL(redirect_url).searchParams.get('token')));
    assert.equal((await pollUntil(code, 'SIGNED')).state, 'SIGNED');

    const res = await h.stack.request('POST', `/contracts/${code}/terminate`, {
      contract_termination_remark: '用户申请解约',
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.state, 'TERMINATED');
    const deadline = Date.now() + 10_000;
    const terminateCallback = () =>
      sim
        .callbacks()
        .find((d) => d.out_contract_code === code && d.event_type.endsWith('TERMINATE_CONTRACT'));
    while (terminateCallback()?.state !== 'delivered' && Date.now() < deadline) await sleep(50);
    const delivery = terminateCallback();
    assert.equal(delivery?.state, 'delivered', JSON.stringify(delivery?.attempts));
    assert.deepEqual(
      delivery?.attempts.map((a) => a.status),
      [204],
      'acknowledged on the first send',
    );
    // STALE: our record already knew. APPLIED: the callback came first, and the terminate found it done.
    const outcome = (await h.notification(String(delivery?.id)))?.outcome;
    assert.ok(outcome === 'STALE' || outcome === 'APPLIED', `notification outcome ${String(outcome)}`);
    const stored = await h.contract(code);
    assert.equal(stored?.state, 'TERMINATED');
    assert.equal(stored?.contract_terminated_mode, 'TERMINATION_MODE_BY_MERCHANT', JSON.stringify(stored));

    await h.stack.drainEvents();
    assert.deepEqual(
      h.stack.events.filter((e) => e.detail.out_contract_code === code).map((e) => e.type),
      ['ContractPresigned', 'ContractSigned', 'ContractTerminated'],
    );
  });
});
