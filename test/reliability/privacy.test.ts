/**
 * Privacy (docs/architecture.md#invariants): after a representative run, no plaintext name or ID number in any
 * log line (DEBUG included), DynamoDB item, event or error answer, and no openid in any log line or event.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { validatePresign } from '../../lib/contracts/validation';
import { parseJsonBody } from '../../lib/http/body';
import type { ServiceEvent } from '../../lib/repayments/events';
import { h5Body, residentId } from '../support/contracts/fixtures';
import type { ApiAnswer, TestStack } from '../support/local/stack';
import { type CapturedOutput, captureOutput } from '../support/observability/output-capture';
import { hits, spellings } from '../support/observability/plaintext';
import { lambdaContext } from './helpers/lambda';
import { callbacksSettled, H5_PRESIGN, tokenOf } from './helpers/wechatpay';

// Set before any handler module loads (they are imported below, dynamically): DEBUG lines are scanned too, and
// Powertools logs every invocation event wherever a handler lets it, the most revealing settings an operator
// could choose.
process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';

interface Person {
  name: string;
  display: string;
  id: string;
}

const person = (name: string, display: string): Person => {
  const birth = `${1950 + randomInt(50)}05${10 + randomInt(19)}`;
  return { name, display, id: residentId(`110105${birth}${String(randomInt(1000)).padStart(3, '0')}`) };
};
const PEOPLE = [person('欧阳明月', '***月'), person('司马相如之', '***之'), person('林一', '*一')] as const;
const [A, B, C] = PEOPLE;

const bodyOf = (p: Person, over: Record<string, unknown> = {}) =>
  h5Body({
    display_name: p.display,
    real_identity: { identity_type: 'REAL_IDENTITY_TYPE_ID_CARD', identity_id: p.id, real_name: p.name },
    ...over,
  });

/** Each plaintext as written, and as a JSON \u escape would spell it. */
describe('privacy', () => {
  let output: CapturedOutput;
  let stack: TestStack;
  const answers: ApiAnswer[] = [];
  /** Errors thrown to direct invokers: what Step Functions would record. */
  const thrown: string[] = [];

  const post = async (path: string, body: unknown) => {
    const answer = await stack.request('POST', path, body);
    answers.push(answer);
    return answer;
  };
  const postRaw = async (raw: Buffer | string) => {
    const res = await fetch(`${stack.api.url}/contracts/h5-presign`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw,
    });
    const answer = { status: res.status, headers: res.headers, body: JSON.parse(await res.text()) };
    answers.push(answer);
    return answer;
  };

  before(async () => {
    output = captureOutput();
    const { startTestStack } = await import('../support/local/stack');
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.close();
    output?.stop();
  });

  test('a representative run: presign, replay, conflict, WeChat Pay 4xx and 5xx, refusals, callbacks, sync, terminate, reconcile', async () => {
    const simulator = stack.simulator;
    assert.ok(simulator);
    const H5 = '/contracts/h5-presign';

    const a = bodyOf(A);
    const codeA = String(a.out_contract_code);
    assert.equal((await post(H5, a)).status, 201);
    assert.equal((await post(H5, a)).status, 200);
    assert.equal((await post(H5, { ...a, repayment_amount_limit: '5000' })).status, 409);
    const b = bodyOf(B);
    const codeB = String(b.out_contract_code);
    assert.equal((await post('/contracts/app-presign', b)).status, 201);

    simulator.injectFault({
      path: H5_PRESIGN,
      count: 1,
      status: 403,
      body: { code: 'NO_AUTH', message: '商户无权限' },
    });
    assert.equal((await post(H5, bodyOf(C))).status, 502);
    simulator.injectFault({ path: H5_PRESIGN, count: 3, status: 500 });
    assert.equal((await post(H5, bodyOf(C))).status, 503);

    // Refusals of bodies full of personal data.
    const badId = `${A.id.slice(0, 17)}${A.id.endsWith('1') ? '2' : '1'}`;
    const refused = [
      await post(H5, bodyOf(A, { real_identity: { ...(a.real_identity as object), identity_id: badId } })),
      await post(H5, bodyOf(A, { display_name: A.name })),
      await post(H5, bodyOf(A, { out_contract_code: A.name })),
      await post(H5, bodyOf(A, { out_contract_code: A.id, display_name: A.name })),
      await post(H5, bodyOf(A, { id_card: A.id, holder: A.name })),
      await post(
        H5,
        bodyOf(A, { real_identity: { ...(a.real_identity as object), real_name: `${A.name}😀` } }),
      ),
      await post(
        H5,
        bodyOf(A, { trade_info: { out_trade_no: A.id, deduct_amount: 1, description: A.name.repeat(40) } }),
      ),
      await postRaw(`{"real_identity":{"identity_id":"${A.id}","real_name":"${A.name}"}, x}`),
      await postRaw(
        Buffer.concat([Buffer.from(`{"real_name":"${A.name}`), Buffer.from([0xff]), Buffer.from('"}')]),
      ),
      await postRaw(
        JSON.stringify(
          bodyOf(A, {
            trade_info: {
              out_trade_no: 'T1234567',
              deduct_amount: 1,
              attach: `${A.id} ${A.name}`.repeat(500),
            },
          }),
        ),
      ),
    ];
    assert.deepEqual(
      refused.map((r) => r.status),
      refused.map(() => 400),
    );

    // Direct invocation (Step Functions): what the thrown error carries is recorded by the caller.
    const { handler: presignHandler } = await import('../../functions/presign');
    for (const body of [
      bodyOf(B, { display_name: B.name }),
      bodyOf(B, {
        real_identity: {
          identity_type: 'REAL_IDENTITY_TYPE_ID_CARD',
          identity_id: B.id.slice(1),
          real_name: B.name,
        },
      }),
    ]) {
      const error = await presignHandler(body, lambdaContext('presign')).then(
        () => assert.fail('expected a refusal'),
        (e: unknown) => e,
      );
      assert.equal((error as Error).name, 'ValidationFailed');
      thrown.push(inspect(error, { depth: 10 }), JSON.stringify(error));
    }

    // Both users sign; WeChat Pay's callbacks carry their openid.
    await simulator.agree(tokenOf(simulator, codeA));
    await simulator.agree(tokenOf(simulator, codeB));
    await callbacksSettled(simulator, [codeA, codeB]);
    const synced = await stack.request('GET', `/contracts/${codeA}?sync=true`);
    assert.equal(synced.body.state, 'SIGNED');
    assert.equal((await stack.request('GET', `/contracts/${codeB}`)).body.state, 'SIGNED');
    const terminated = await post(`/contracts/${codeA}/terminate`, {
      contract_termination_remark: '用户申请解约',
    });
    assert.equal(terminated.status, 200, JSON.stringify(terminated.body));
    await callbacksSettled(simulator, [codeA, codeB]);
    const { handler: reconcileHandler } = await import('../../functions/reconcile');
    await reconcileHandler({ limit: 100 }, lambdaContext('reconcile'));
    await stack.drainEvents();
    assert.ok(
      stack.events.some((e) => e.type === 'ContractTerminated' && e.detail.out_contract_code === codeA),
    );
  });

  test('no name or ID number in any log line, DynamoDB item, event, error answer or thrown error; no openid in any log line or event', async () => {
    const logs = output.logs();
    // The capture saw what it must: DEBUG lines, and a line from every path of the run.
    const messages = new Set(logs.map((l) => String(l.message)));
    for (const expected of [
      'presign created',
      'presign replayed',
      'request refused',
      'request failed',
      'callback stored',
      'contract terminated',
      'reconcile run',
      'contract events published',
      'Lambda invocation event',
    ]) {
      assert.ok(messages.has(expected), `no "${expected}" line captured; got ${[...messages].join(' | ')}`);
    }
    assert.ok(
      logs.some((l) => l.level === 'DEBUG'),
      'DEBUG lines are captured',
    );

    const openids = (stack.simulator?.contracts() ?? []).flatMap((c) => (c.openid ? [c.openid] : []));
    assert.equal(openids.length, 2, 'both users signed');
    const personal = PEOPLE.flatMap((p) => [...spellings(p.name), ...spellings(p.id)]);
    const items = [...(await stack.scan('contracts')), ...(await stack.scan('notifications'))];
    assert.ok(items.length >= 7, `items scanned: ${items.length}`);
    const errorAnswers = answers.filter((a) => a.status >= 400).map((a) => JSON.stringify(a.body));
    const events = JSON.stringify([...stack.events, ...stack.repaymentEvents] satisfies ServiceEvent[]);

    assert.deepEqual(hits(output.text(), [...personal, ...openids]), [], 'log lines');
    assert.deepEqual(hits(JSON.stringify(items), personal), [], 'DynamoDB items');
    assert.deepEqual(hits(events, [...personal, ...openids]), [], 'events');
    assert.deepEqual(hits(errorAnswers.join('\n'), [...personal, ...openids]), [], 'error answers');
    assert.deepEqual(hits(thrown.join('\n'), personal), [], 'errors thrown to direct invokers');
  });

  test('an error raised over a body holding the ID and name never echoes it, though the underlying parser would', () => {
    // An unquoted name: V8's SyntaxError quotes the input around the bad token, here the name itself.
    const unquoted = `{"real_name":${C.name}}`;
    const broken = `{"real_identity":{"identity_id":"${C.id}","real_name":"${C.name}"}, x}`;
    const native = (() => {
      try {
        JSON.parse(unquoted);
      } catch (error) {
        return String((error as Error).message);
      }
      return '';
    })();
    assert.ok(native.includes(C.name), `V8 would have echoed the name: ${native}`);

    for (const raw of [
      Buffer.from(unquoted),
      Buffer.from(broken),
      Buffer.concat([Buffer.from(broken.slice(0, -3)), Buffer.from([0xc3, 0x28]), Buffer.from('}')]),
    ]) {
      assert.throws(
        () => parseJsonBody(raw),
        (error: Error) => {
          const everything = `${error.message}\n${inspect(error, { depth: 10 })}\n${JSON.stringify(error)}`;
          assert.deepEqual(hits(everything, [C.id, C.name]), []);
          assert.equal(error.name, 'ValidationFailed');
          return true;
        },
      );
    }
    const unmasked = bodyOf(C, { display_name: C.name });
    const wrongId = bodyOf(C, {
      real_identity: {
        identity_type: 'REAL_IDENTITY_TYPE_ID_CARD',
        identity_id: `${C.id}0`,
        real_name: C.name,
      },
    });
    for (const body of [unmasked, wrongId]) {
      assert.throws(
        () => validatePresign('H5', body),
        (error: Error) => {
          assert.deepEqual(hits(`${error.message}\n${inspect(error, { depth: 10 })}`, [C.id, C.name]), []);
          return true;
        },
      );
    }
  });
});
