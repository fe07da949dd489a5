/**
 * Privacy of the repayment paths: after a representative run (book, replay, conflicts and refusals of bodies
 * full of personal data, deduct, DEDUCTION_PAY applied and mismatched, poll, sync, direct invocation), no
 * plaintext name or ID number in any log line (DEBUG and events logged), DynamoDB item of any table, event, error
 * answer or thrown error; and no openid in any log line, event, repayment item or answer.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { residentId } from '../support/contracts/fixtures';
import type { ApiAnswer } from '../support/local/stack';
import { type CapturedOutput, captureOutput } from '../support/observability/output-capture';
import { hits, spellings } from '../support/observability/plaintext';
import type { RepaymentHarness } from '../support/repayments/harness';
import { callback, DEDUCTION_PAY } from '../support/wechatpay/callbacks';
import { eventually } from './helpers/wechatpay';

// Set before any handler module loads (the harness is imported below, dynamically).
process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';

const NAME = '欧阳明月';
const ID = residentId(`110105${1950 + randomInt(50)}0512${String(randomInt(1000)).padStart(3, '0')}`);

describe('privacy of repayments', () => {
  let output: CapturedOutput;
  let h: RepaymentHarness;
  let openid = '';
  const answers: ApiAnswer[] = [];
  const thrown: string[] = [];
  const call = async (method: string, path: string, body?: unknown) => {
    const answer = await h.request(method, path, body);
    answers.push(answer);
    return answer;
  };

  before(async () => {
    output = captureOutput();
    const { startRepaymentHarness } = await import('../support/repayments/harness');
    h = await startRepaymentHarness();
  });
  after(async () => {
    await h?.close();
    output?.stop();
  });

  test('a representative run: book, replay, refusals, deduct, DEDUCTION_PAY matched and not, poll, sync, direct invocation', async () => {
    const contract = await h.signedContract({
      display_name: '***月',
      real_identity: { identity_type: 'REAL_IDENTITY_TYPE_ID_CARD', identity_id: ID, real_name: NAME },
    });
    openid = String(contract.openid);
    const path = `/contracts/${contract.out_contract_code}/repayments`;
    const body = {
      out_record_id: 'RPRIVACY1',
      repayment_amount: '5000',
      min_repayment_amount: '1000',
      repayment_date: h.day(1),
    };
    assert.equal((await call('POST', path, body)).status, 201);
    assert.equal((await call('POST', path, body)).status, 200);
    assert.equal((await call('POST', path, { ...body, repayment_amount: '4000' })).status, 409);
    const refused = [
      await call('POST', path, { ...body, real_name: NAME, identity_id: ID }),
      await call('POST', path, { ...body, out_record_id: `R${NAME}` }),
      await call('POST', path, { ...body, repayment_date: NAME }),
      await call('POST', path, `{"real_identity":{"identity_id":"${ID}","real_name":"${NAME}"}, x}`),
      await call('POST', '/repayments/RPRIVACY1/deduct', { out_trade_no: NAME, attach: `${ID}😀` }),
      await call('POST', '/repayments/RPRIVACY1/deduct', { openid, real_name: NAME }),
    ];
    assert.deepEqual(
      refused.map((r) => r.status),
      [400, 400, 400, 400, 400, 400],
    );
    for (const event of [
      { out_contract_code: contract.out_contract_code, ...body, real_name: NAME },
      { out_contract_code: NAME },
    ]) {
      const error = await h.invoke(event);
      assert.equal((error as Error).name, 'ValidationFailed');
      thrown.push(inspect(error, { depth: 10 }), JSON.stringify(error));
    }

    await h.advance(86_400_000);
    h.simulator.setWallet(openid, { hold: 'PENDING' });
    const deducted = await call('POST', '/repayments/RPRIVACY1/deduct', {});
    assert.equal(deducted.status, 202);
    const tradeNo = String((deducted.body.orders as { out_trade_no: string }[])[0]?.out_trade_no);
    const resource = {
      openid,
      order_state: 'DEDUCT_ORDER_STATE_PAY_SUCCESS',
      out_trade_no: tradeNo,
      out_record_id: 'RPRIVACY1',
      contract_id: contract.contract_id,
      deduct_amount: '1',
      description: NAME,
    };
    const forged = callback(h.keys, { eventType: DEDUCTION_PAY, resource, aad: '', now: h.now() });
    assert.equal((await h.deliver(forged)).status, 204);
    await h.advance(60_000);
    assert.equal((await h.reconcile()).repayments.examined, 1);
    await h.simulator.settleDeduction(tradeNo);
    await eventually('repaid', async () => (await h.stored('RPRIVACY1'))?.state === 'SUCCEEDED');
    assert.equal((await call('GET', '/repayments/RPRIVACY1?sync=true')).body.state, 'SUCCEEDED');
    await h.stack.drainEvents();
    assert.ok(h.stack.repaymentEvents.some((e) => e.type === 'NotificationUnhandled'));
  });

  test('no name or ID number in any log line, item, event, error answer or thrown error; no openid in logs, events, repayment items or answers', async () => {
    const logs = output.logs();
    const messages = new Set(logs.map((l) => String(l.message)));
    for (const expected of [
      'booking created',
      'booking replayed',
      'request refused',
      'deduct order sent',
      'DEDUCTION_PAY kept unhandled',
      'callback stored',
      'reconcile run',
      'repayment events published',
    ]) {
      assert.ok(messages.has(expected), `no "${expected}" line captured; got ${[...messages].join(' | ')}`);
    }
    assert.ok(
      logs.some((l) => l.level === 'DEBUG'),
      'DEBUG lines are captured',
    );
    assert.ok(openid.startsWith('o'), 'the user signed');
    const personal = [...spellings(NAME), ...spellings(ID)];
    const repayments = JSON.stringify(await h.stack.scan('repayments'));
    const items = JSON.stringify([
      ...(await h.stack.scan('contracts')),
      ...(await h.stack.scan('notifications')),
    ]);
    const events = JSON.stringify([...h.stack.events, ...h.stack.repaymentEvents]);
    const errorAnswers = answers
      .filter((a) => a.status >= 400)
      .map((a) => JSON.stringify(a.body))
      .join('\n');
    assert.deepEqual(hits(output.text(), [...personal, openid]), [], 'log lines');
    assert.deepEqual(hits(items, personal), [], 'contract and notification items');
    assert.deepEqual(hits(repayments, [...personal, openid]), [], 'repayment items');
    assert.deepEqual(hits(events, [...personal, openid]), [], 'events');
    assert.deepEqual(hits(JSON.stringify(answers.map((a) => a.body)), [openid]), [], 'answers');
    assert.deepEqual(hits(errorAnswers, personal), [], 'error answers');
    assert.deepEqual(hits(thrown.join('\n'), personal), [], 'errors thrown to direct invokers');
  });
});
