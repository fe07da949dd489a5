/**
 * Race suite (README "What we promise and how it is tested"): many callers and WeChat Pay's own callbacks hitting
 * the same contracts at once, through the local gateway, DynamoDB Local, the KMS stand-in and the WeChat Pay
 * simulator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { handler as reconcileHandler } from '../../functions/reconcile';
import type { Simulator } from '../../infra/local/simulator';
import type { ReconcileReport } from '../../lib/contracts/reconcile';
import { h5Body, uniqueCode } from '../support/contracts/fixtures';
import { type ApiAnswer, startTestStack, type TestStack } from '../support/local/stack';
import {
  type Callback,
  NOTIFY_PATH,
  newWechatPayKeys,
  post as postCallback,
  resend,
  type WechatPayKeys,
} from '../support/wechatpay/callbacks';
import { lambdaContext } from './helpers/lambda';
import { pool } from './helpers/pool';
import { backdate, recordOf } from './helpers/records';
import { answered, type RetryTally } from './helpers/retry';
import { callbacksSettled, presignCalls, presignCallsByCode, tokenOf } from './helpers/wechatpay';

const H5 = '/contracts/h5-presign';

describe('race suite', () => {
  let stack: TestStack;
  let simulator: Simulator;
  // WeChat Pay's signing key, held by this test too, so that it can redeliver WeChat Pay's own callbacks.
  const wechatpay: WechatPayKeys = newWechatPayKeys();
  const tally: RetryTally = { retried: 0 };
  const post = (body: unknown) => answered(() => stack.request('POST', H5, body), tally);

  before(async () => {
    // Contention is under test here, not WeChat Pay's latency (faults.test.ts covers timeouts): a burst of
    // hundreds of in-process "Lambdas" on two cores must not turn into client timeouts.
    stack = await startTestStack({
      env: { WECHATPAY_TIMEOUT_MS: '10000' },
      simulator: {
        callbackSchedule: [50, 100, 200, 400, 800, 1600],
        publicKey: { id: wechatpay.serial, privateKey: wechatpay.privateKey },
      },
    });
    wechatpay.apiV3Key = stack.keyMaterial.apiV3Key;
    if (!stack.simulator) throw new Error('the test stack runs the simulator');
    simulator = stack.simulator;
  });
  after(async () => {
    await stack?.close();
    if (tally.retried > 0)
      console.log(`race suite: ${tally.retried} answer(s) were 503 + Retry-After, retried`);
  });

  test('200 concurrent presigns of one code, same body: one WeChat Pay call, one 201, the rest 200 replays or 409 PRESIGN_IN_PROGRESS', async () => {
    const body = h5Body();
    const code = String(body.out_contract_code);
    const answers = await Promise.all(Array.from({ length: 200 }, () => post(body)));

    const created = answers.filter((a) => a.status === 201);
    assert.equal(created.length, 1, `statuses: ${summary(answers)}`);
    for (const answer of answers) {
      if (answer.status === 201) continue;
      if (answer.status === 200) {
        assert.equal(answer.headers.get('idempotent-replayed'), 'true');
        assert.deepEqual(answer.body, created[0]?.body, 'a replay is the very answer the winner got');
      } else {
        assert.equal(answer.status, 409, `statuses: ${summary(answers)}`);
        assert.equal(answer.body.code, 'PRESIGN_IN_PROGRESS');
      }
    }
    assert.equal(presignCalls(simulator, code).length, 1, 'exactly one WeChat Pay call');
    const record = await recordOf(stack, code);
    assert.equal(record?.state, 'PRESIGNED');
    assert.equal(record?.redirect_url, created[0]?.body.redirect_url);
  });

  test('200 concurrent presigns of one code, 200 different bodies: one 201, the other 199 are 409 CONTRACT_CODE_USED', async () => {
    const code = uniqueCode('D');
    const bodies = Array.from({ length: 200 }, (_, i) =>
      h5Body({ out_contract_code: code, repayment_amount_limit: String(10_000 + i) }),
    );
    const answers = await Promise.all(bodies.map((body) => post(body)));

    const winners = answers.flatMap((a, i) => (a.status === 201 ? [i] : []));
    assert.equal(winners.length, 1, `statuses: ${summary(answers)}`);
    for (const answer of answers) {
      if (answer.status === 201) continue;
      assert.equal(answer.status, 409, `statuses: ${summary(answers)}`);
      assert.equal(answer.body.code, 'CONTRACT_CODE_USED');
      assert.ok(['PRESIGNING', 'PRESIGNED'].includes(String(answer.body.state)), String(answer.body.state));
    }
    const calls = presignCalls(simulator, code);
    assert.equal(calls.length, 1, 'exactly one WeChat Pay call');
    const winner = bodies[winners[0] ?? -1];
    assert.equal(JSON.parse(calls[0]?.body ?? '{}').repayment_amount_limit, winner?.repayment_amount_limit);
    const record = await recordOf(stack, code);
    assert.equal(record?.state, 'PRESIGNED');
    assert.equal(record?.repayment_amount_limit, winner?.repayment_amount_limit);
  });

  test('1,000 distinct codes at 20-way concurrency: 1,000 PRESIGNED records, 1,000 WeChat Pay calls, 1,000 events', async () => {
    const codes = Array.from({ length: 1000 }, () => uniqueCode('M'));
    const answers = await pool(codes.length, 20, (i) => post(h5Body({ out_contract_code: codes[i] })));
    assert.deepEqual(
      answers.filter((a) => a.status !== 201).map((a) => `${a.status} ${a.body.code}`),
      [],
      'every presign answered 201',
    );

    const wanted = new Set(codes);
    const records = (await stack.scan('contracts')).filter((r) => wanted.has(String(r.out_contract_code)));
    assert.equal(records.length, 1000, 'a record for every code');
    assert.deepEqual(
      records.filter((r) => r.state !== 'PRESIGNED').map((r) => `${r.out_contract_code} ${r.state}`),
      [],
      'every record in its final state',
    );
    const calls = presignCallsByCode(simulator);
    assert.deepEqual(
      codes.filter((c) => calls.get(c) !== 1),
      [],
      'exactly one WeChat Pay call per code',
    );
    assert.equal(
      codes.reduce((sum, c) => sum + (calls.get(c) ?? 0), 0),
      1000,
    );

    await stack.drainEvents();
    const presigned = stack.events.filter(
      (e) => e.type === 'ContractPresigned' && wanted.has(e.detail.out_contract_code),
    );
    assert.equal(new Set(presigned.map((e) => e.detail.out_contract_code)).size, 1000, 'an event per code');
    assert.equal(new Set(presigned.map((e) => e.detail.event_id)).size, presigned.length, 'no event twice');
    assert.equal(presigned.length, 1000);
  });

  test('callbacks, ?sync=true calls and reconcile runs racing on the same contracts: each ends SIGNED with exactly one ContractSigned event', async () => {
    const codes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const body = h5Body();
      const answer = await post(body);
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      codes.push(String(body.out_contract_code));
    }
    // As if WeChat Pay answered 13 minutes ago: reconcile's turn (the record is due in its queue), while the
    // token itself (expires_at) is still open, so nothing here may conclude EXPIRED.
    await Promise.all(
      codes.map((code) => backdate(stack, code, 13 * 60_000, ['updated_at', 'next_check_at'])),
    );
    const tokens = codes.map((code) => tokenOf(simulator, code));

    let agreed = false;
    const syncAnswers: ApiAnswer[] = [];
    const reports: ReconcileReport[] = [];
    const syncLoop = async (code: string) => {
      do {
        syncAnswers.push(await answered(() => stack.request('GET', `/contracts/${code}?sync=true`), tally));
      } while (!agreed);
    };
    const reconcileLoop = async () => {
      do {
        reports.push(
          (await reconcileHandler({ limit: 1000 }, lambdaContext('reconcile'))) as ReconcileReport,
        );
        await sleep(5);
      } while (!agreed);
    };
    const agreeAll = async () => {
      // Users sign one after another while the pollers run; WeChat Pay's callbacks (and retries) race them.
      for (const token of tokens) await simulator.agree(token);
      await callbacksSettled(simulator, codes);
      agreed = true;
    };
    await Promise.all([agreeAll(), ...codes.map(syncLoop), reconcileLoop(), reconcileLoop()]);
    await stack.drainEvents();

    for (const answer of syncAnswers) {
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.ok(['PRESIGNED', 'SIGNED'].includes(String(answer.body.state)), String(answer.body.state));
    }
    const wanted = new Set(codes);
    const callbacks = simulator.callbacks().filter((c) => wanted.has(c.out_contract_code));
    assert.equal(callbacks.length, codes.length, 'one SIGN_CONTRACT notification per contract');
    const contracts = new Map(simulator.contracts().map((c) => [c.out_contract_code, c]));
    for (const code of codes) {
      const record = await recordOf(stack, code);
      assert.equal(record?.state, 'SIGNED', code);
      assert.equal(record?.contract_id, contracts.get(code)?.contract_id);
    }
    const events = stack.events.filter((e) => wanted.has(e.detail.out_contract_code ?? ''));
    for (const code of codes) {
      const types = events.filter((e) => e.detail.out_contract_code === code).map((e) => e.type);
      assert.deepEqual(types, ['ContractPresigned', 'ContractSigned'], `events of ${code}`);
    }
    // Each notification id is recorded at most once, and exactly once when WeChat Pay heard 204. (A callback
    // answered 500 on every retry, possible when this one process is saturated, is what sync and reconcile
    // are for; the contract is SIGNED all the same.)
    const notifications = (await stack.scan('notifications')).filter((n) =>
      wanted.has(String(n.out_contract_code)),
    );
    const recorded = (code: string) => notifications.filter((n) => n.out_contract_code === code).length;
    for (const callback of callbacks) {
      const code = callback.out_contract_code;
      assert.ok(recorded(code) <= 1, `${code} recorded ${recorded(code)} times`);
      if (callback.state === 'delivered')
        assert.equal(recorded(code), 1, `${code} acknowledged, not recorded`);
    }
    assert.ok(
      callbacks.some((c) => c.state === 'delivered'),
      'callbacks took part in the race',
    );
    assert.ok(reports.length >= 2, 'reconcile ran alongside');
    assert.ok(syncAnswers.length >= codes.length * 2, 'sync ran alongside');
  });

  test('duplicate and late callbacks racing a terminate and syncs: each notification applied once, the state never moves back', async () => {
    const body = h5Body();
    const code = String(body.out_contract_code);
    const created = await post(body);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await simulator.agree(tokenOf(simulator, code));
    await callbacksSettled(simulator, [code]);
    const sign = simulator.callbacks().find((c) => c.out_contract_code === code);
    assert.ok(sign, 'the SIGN_CONTRACT callback');
    const original: Callback = { id: sign.id, headers: {}, body: Buffer.from(sign.body) };
    /** WeChat Pay's redelivery: the same body under a fresh signature, again until acknowledged. */
    const redeliver = async () => {
      for (let attempt = 1; ; attempt++) {
        const answer = await postCallback(`${stack.api.url}${NOTIFY_PATH}`, resend(wechatpay, original));
        if (answer.status === 204 || attempt >= 5) return answer.status;
      }
    };

    const seen: string[][] = [];
    const syncLoop = async () => {
      const states: string[] = [];
      seen.push(states);
      for (let i = 0; i < 5; i++) {
        const answer = await answered(() => stack.request('GET', `/contracts/${code}?sync=true`), tally);
        states.push(String(answer.body.state));
      }
    };
    const [duplicates, terminated] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, redeliver)),
      answered(
        () =>
          stack.request('POST', `/contracts/${code}/terminate`, {
            contract_termination_remark: '用户申请解约',
          }),
        tally,
      ),
      syncLoop(),
      syncLoop(),
    ]);
    assert.equal(terminated.status, 200, JSON.stringify(terminated.body));
    await callbacksSettled(simulator, [code]);
    const late = await Promise.all(Array.from({ length: 5 }, redeliver));
    await stack.drainEvents();

    assert.deepEqual([...duplicates, ...late], Array(25).fill(204), 'every redelivery acknowledged');
    assert.equal((await recordOf(stack, code))?.state, 'TERMINATED');
    const notifications = (await stack.scan('notifications')).filter((n) => n.out_contract_code === code);
    assert.deepEqual(
      notifications.map((n) => n.event_type).sort(),
      ['CREDIT_REPAYMENT.SIGN_CONTRACT', 'CREDIT_REPAYMENT.TERMINATE_CONTRACT'],
      'each notification id recorded once',
    );
    assert.deepEqual(
      stack.events.filter((e) => e.detail.out_contract_code === code).map((e) => e.type),
      ['ContractPresigned', 'ContractSigned', 'ContractTerminated'],
    );
    const rank = ['SIGNED', 'TERMINATED'];
    for (const states of seen) {
      const ranks = states.map((state) => rank.indexOf(state));
      assert.ok(!ranks.includes(-1), `unexpected state in ${states.join(', ')}`);
      assert.deepEqual(ranks, [...ranks].sort(), `a sync saw the state move back: ${states.join(' → ')}`);
    }
  });
});

function summary(answers: ApiAnswer[]): string {
  const counts = new Map<string, number>();
  for (const a of answers) {
    const key = `${a.status}${a.body.code ? ` ${a.body.code}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return JSON.stringify(Object.fromEntries(counts));
}
