import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANSWER_MS, RECORD_MS } from '../../../../lib/contracts/budget';
import type { ContractState } from '../../../../lib/contracts/lifecycle';
import type { ContractRecord } from '../../../../lib/contracts/model';
import { type TerminateDeps, terminate } from '../../../../lib/contracts/terminate';
import {
  ContractNotFound,
  ContractStateConflict,
  ValidationFailed,
  WechatPayRejected,
  WechatPayUnavailable,
} from '../../../../lib/errors';
import type { SendOptions, WechatPayRequest, WechatPayResponse } from '../../../../lib/wechatpay/client';
import { contractPath, TERMINATE_PATH } from '../../../../lib/wechatpay/credit-repayment';
import { PERSON, PRESIGNED_BY_US } from '../../../support/contracts/fixtures';
import { gatewayDouble } from '../../../support/contracts/gateway';
import { MemoryContractStore } from '../../../support/contracts/memory-store';

const T0 = Date.parse('2026-11-27T04:00:00.000Z');
const CODE = 'C2026112700003';
const CONTRACT_ID = '202611270000000000000000003';
const REMARK = '用户申请解约';

type Answer = (request: WechatPayRequest) => unknown;

/** WeChat Pay as terminate sees it: `terminate` answers the POST, `query` the GET; each returns JSON or throws. */
function gateway(terminateAnswer: Answer, query: Answer = () => notFound()) {
  const calls: WechatPayRequest[] = [];
  /** What each call was given of the function's time. */
  const given: number[] = [];
  return gatewayDouble({
    calls,
    given,
    async call(request: WechatPayRequest, options?: SendOptions): Promise<WechatPayResponse> {
      calls.push(request);
      given.push(options?.remainingMs?.() ?? Number.NaN);
      const body = request.method === 'POST' ? terminateAnswer(request) : query(request);
      if (body instanceof Error) throw body;
      const bytes = Buffer.from(body === undefined ? '' : JSON.stringify(body));
      return {
        status: body === undefined ? 204 : 200,
        requestId: 'req-t',
        headers: new Headers(),
        body: bytes,
        json: <T>() => body as T,
      };
    },
  });
}

const notFound = () =>
  new WechatPayRejected({ status: 404, code: 'RESOURCE_NOT_EXISTS', message: '协议不存在', request_id: 'q' });

function record(state: ContractState): ContractRecord {
  return {
    ...PRESIGNED_BY_US,
    out_contract_code: CODE,
    state,
    contract_id: CONTRACT_ID,
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    contract_signed_time: '2026-11-27T12:01:00+08:00',
    created_at: new Date(T0).toISOString(),
    updated_at: new Date(T0).toISOString(),
    version: 3,
  };
}

/** The contract WeChat Pay describes after terminating it (the query API's fields; the limit is an integer there). */
const info = (extra: Record<string, unknown> = {}) => ({
  contract_id: CONTRACT_ID,
  plan_id: '123',
  out_contract_code: CODE,
  display_name: PERSON.display,
  contract_state: 'CONTRACT_STATE_TERMINATED',
  contract_signed_time: '2026-11-27T12:01:00+08:00',
  contract_terminated_time: '2026-11-27T12:40:00+08:00',
  contract_terminated_mode: 'TERMINATION_MODE_BY_MERCHANT',
  contract_termination_remark: REMARK,
  repayment_amount_limit: 10000,
  ...extra,
});

function setup(state: ContractState | undefined, terminateAnswer: Answer, query?: Answer) {
  const store = new MemoryContractStore();
  if (state) store.items.set(CODE, record(state));
  const wechatpay = gateway(terminateAnswer, query);
  const deps: TerminateDeps = { store, wechatpay, clock: () => T0 + 3_600_000 };
  return { store, wechatpay, deps };
}

describe('terminate', () => {
  describe('refuses before calling WeChat Pay', () => {
    const fields = async (body: unknown) => {
      const { deps, wechatpay } = setup('SIGNED', () => info());
      try {
        await terminate(deps, CODE, body);
      } catch (error) {
        assert.ok(error instanceof ValidationFailed, String(error));
        assert.equal(wechatpay.calls.length, 0);
        return error.errors.map((e) => e.field);
      }
      assert.fail('accepted an invalid body');
    };

    it('a missing, empty or 129-character remark, naming the field', async () => {
      assert.deepEqual(await fields({}), ['/contract_termination_remark']);
      assert.deepEqual(await fields({ contract_termination_remark: '' }), ['/contract_termination_remark']);
      assert.deepEqual(await fields({ contract_termination_remark: 'x'.repeat(129) }), [
        '/contract_termination_remark',
      ]);
    });

    it('an unknown field or a body that is not an object', async () => {
      assert.deepEqual(await fields({ contract_termination_remark: 'ok', reason: 'x' }), ['/reason']);
      assert.deepEqual(await fields('stop'), ['']);
    });

    it('an unknown code (404) and a contract that is not SIGNED (409 with its state)', async () => {
      const unknown = setup(undefined, () => info());
      await assert.rejects(
        terminate(unknown.deps, CODE, { contract_termination_remark: REMARK }),
        ContractNotFound,
      );
      for (const state of ['PRESIGNED', 'PRESIGN_UNKNOWN', 'EXPIRED', 'TERMINATED'] as const) {
        const { deps, wechatpay } = setup(state, () => info());
        await assert.rejects(terminate(deps, CODE, { contract_termination_remark: REMARK }), (error) => {
          assert.ok(error instanceof ContractStateConflict);
          assert.equal(error.state, state);
          return true;
        });
        assert.equal(wechatpay.calls.length, 0, state);
      }
    });
  });

  it('the identical request on the contract it terminated replays the record; another remark is a conflict', async () => {
    const { deps, store, wechatpay } = setup('SIGNED', () => ({ contract_info: info() }));
    const first = await terminate(deps, CODE, { contract_termination_remark: REMARK });
    assert.equal(first.state, 'TERMINATED');
    assert.deepEqual(await terminate(deps, CODE, { contract_termination_remark: REMARK }), first);
    assert.equal(wechatpay.calls.length, 1, 'WeChat Pay is asked once');
    await assert.rejects(terminate(deps, CODE, { contract_termination_remark: '另一个理由' }), (error) => {
      assert.ok(error instanceof ContractStateConflict);
      return error.state === 'TERMINATED';
    });
    assert.equal(wechatpay.calls.length, 1);
    assert.deepEqual(await store.get(CODE), first);
  });

  it('accepts a 128-character remark and sends exactly the code and the remark', async () => {
    const remark = '解'.repeat(128);
    const { deps, wechatpay } = setup('SIGNED', () => ({
      contract_info: info({ contract_termination_remark: remark }),
    }));
    const next = await terminate(deps, CODE, { contract_termination_remark: remark });
    assert.equal(next.state, 'TERMINATED');
    assert.deepEqual(wechatpay.calls, [
      {
        method: 'POST',
        path: TERMINATE_PATH,
        body: { out_contract_code: CODE, contract_termination_remark: remark },
      },
    ]);
  });

  for (const [shape, answer] of [
    ['wrapped in contract_info', () => ({ contract_info: info() })],
    ['flat', () => info()],
  ] as const) {
    it(`records WeChat Pay's answer ${shape}`, async () => {
      const { deps, store } = setup('SIGNED', answer);
      const next = await terminate(deps, CODE, { contract_termination_remark: REMARK });
      assert.equal(next.state, 'TERMINATED');
      assert.equal(next.contract_terminated_time, '2026-11-27T12:40:00+08:00');
      assert.equal(next.contract_terminated_mode, 'TERMINATION_MODE_BY_MERCHANT');
      assert.equal(next.contract_termination_remark, REMARK);
      assert.equal(next.repayment_amount_limit, '10000');
      assert.equal(next.openid, 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', 'kept from our record');
      assert.deepEqual(await store.get(CODE), next);
    });
  }

  it('reads the pre-2026 contract_termination_mode and a string limit', async () => {
    const { deps } = setup('SIGNED', () => ({
      contract_info: info({
        contract_terminated_mode: undefined,
        contract_termination_mode: 'TERMINATION_MODE_BY_CUSTOMER_SERVICE',
        repayment_amount_limit: '10000',
      }),
    }));
    const next = await terminate(deps, CODE, { contract_termination_remark: REMARK });
    assert.equal(next.contract_terminated_mode, 'TERMINATION_MODE_BY_CUSTOMER_SERVICE');
    assert.equal(next.repayment_amount_limit, '10000');
  });

  it('an empty answer (204, {} or contract_info: null) is confirmed by the query, whose facts are recorded', async () => {
    for (const answer of [undefined, {}, { contract_info: null }]) {
      const mode = 'TERMINATION_MODE_BY_MERCHANT';
      const { deps, wechatpay } = setup(
        'SIGNED',
        () => answer,
        () => info({ contract_terminated_mode: mode }),
      );
      const next = await terminate(deps, CODE, { contract_termination_remark: REMARK });
      assert.equal(next.state, 'TERMINATED', JSON.stringify(answer));
      assert.equal(next.contract_terminated_mode, mode);
      assert.equal(next.contract_terminated_time, '2026-11-27T12:40:00+08:00', "WeChat Pay's time, not ours");
      assert.deepEqual(
        wechatpay.calls.map((c) => c.method),
        ['POST', 'GET'],
      );
    }
  });

  it('an empty answer the query cannot confirm records what is known and invents neither mode nor time', async () => {
    const effective = () =>
      info({ contract_state: 'CONTRACT_STATE_EFFECTIVE', contract_terminated_time: undefined });
    for (const query of [
      () => new WechatPayUnavailable('HTTP 503 SYSTEM_ERROR after 3 attempts'),
      effective,
    ]) {
      const { deps, store } = setup('SIGNED', () => undefined, query);
      const next = await terminate(deps, CODE, { contract_termination_remark: REMARK });
      assert.equal(next.state, 'TERMINATED', 'WeChat Pay accepted the termination');
      assert.equal(next.contract_termination_remark, REMARK, 'what we sent');
      assert.equal(next.contract_terminated_mode, undefined);
      assert.equal(next.contract_terminated_time, undefined);
      assert.deepEqual(await store.get(CODE), next);
    }
  });

  it('asks the query API when a 2xx answer is not a contract, instead of failing with an internal error', async () => {
    const confirmed = setup(
      'SIGNED',
      () => ({ contract_info: { contract_state: 'CONTRACT_STATE_TERMINATED' } }),
      () => info({ contract_terminated_mode: 'TERMINATION_MODE_BY_MERCHANT' }),
    );
    const next = await terminate(confirmed.deps, CODE, { contract_termination_remark: REMARK });
    assert.equal(next.state, 'TERMINATED');
    assert.deepEqual(
      confirmed.wechatpay.calls.map((c) => c.method),
      ['POST', 'GET'],
    );
    const unconfirmed = setup('SIGNED', () => ['not', 'a', 'contract']);
    await assert.rejects(
      terminate(unconfirmed.deps, CODE, { contract_termination_remark: REMARK }),
      (error) => {
        assert.ok(error instanceof WechatPayRejected, String(error));
        assert.equal(error.wechatpay.code, 'INVALID_RESPONSE');
        return true;
      },
    );
    assert.equal((await unconfirmed.store.get(CODE))?.state, 'SIGNED');
  });

  it('settles a refusal by the query: already terminated (our lost answer, or the user) is success', async () => {
    const refusal = new WechatPayRejected({
      status: 400,
      code: 'INVALID_REQUEST',
      message: '协议状态不允许解约',
    });
    const already = setup(
      'SIGNED',
      () => refusal,
      () => info({ contract_terminated_mode: 'TERMINATION_MODE_BY_USER' }),
    );
    const next = await terminate(already.deps, CODE, { contract_termination_remark: REMARK });
    assert.equal(next.state, 'TERMINATED');
    assert.equal(next.contract_terminated_mode, 'TERMINATION_MODE_BY_USER');
    assert.deepEqual(already.wechatpay.calls[1], { method: 'GET', path: contractPath(CODE) });

    const stillEffective = setup(
      'SIGNED',
      () => refusal,
      () => info({ contract_state: 'CONTRACT_STATE_EFFECTIVE' }),
    );
    await assert.rejects(
      terminate(stillEffective.deps, CODE, { contract_termination_remark: REMARK }),
      (e) => e === refusal,
    );
    assert.equal((await stillEffective.store.get(CODE))?.state, 'SIGNED');
  });

  it('leaves the record SIGNED when WeChat Pay does not answer (the caller may retry)', async () => {
    const { deps, store, wechatpay } = setup(
      'SIGNED',
      () => new WechatPayUnavailable('timed out after 5000 ms'),
    );
    await assert.rejects(
      terminate(deps, CODE, { contract_termination_remark: REMARK }),
      WechatPayUnavailable,
    );
    assert.equal((await store.get(CODE))?.state, 'SIGNED');
    assert.equal(wechatpay.calls.length, 1, 'a write whose outcome is unknown is not blindly repeated');
  });

  it('answers the stored record when the TERMINATE_CONTRACT callback won the race', async () => {
    const { deps, store } = setup('SIGNED', () => ({ contract_info: info() }));
    const get = store.get.bind(store);
    let reads = 0;
    store.get = async (code) => {
      reads++;
      // After terminate's state check and before it records: the callback lands.
      if (reads === 2) {
        const current = await get(code);
        assert.ok(current);
        await store.save({
          ...current,
          state: 'TERMINATED',
          contract_terminated_mode: 'TERMINATION_MODE_BY_USER',
          version: current.version + 1,
        });
      }
      return get(code);
    };
    const next = await terminate(deps, CODE, { contract_termination_remark: REMARK });
    assert.equal(next.state, 'TERMINATED');
    assert.equal(
      next.contract_terminated_mode,
      'TERMINATION_MODE_BY_USER',
      'the callback’s record, unchanged',
    );
    assert.equal((await store.get(CODE))?.version, 4, 'no second write');
  });

  it('within the function’s time: WeChat Pay’s calls keep time to record the outcome; a write that hangs is not waited for', async () => {
    const { deps, store, wechatpay } = setup(
      'SIGNED',
      () => undefined,
      () => info(),
    );
    const deadline = Date.now() + 3_500;
    store.save = () => new Promise(() => {});
    const started = Date.now();
    await assert.rejects(
      terminate(
        deps,
        CODE,
        { contract_termination_remark: REMARK },
        { remainingMs: () => deadline - Date.now() },
      ),
      /recording the termination got no answer in the time the function had left/,
    );
    assert.ok(Date.now() - started < 3_500 - ANSWER_MS + 200, 'answered before the deadline');
    assert.deepEqual(
      wechatpay.calls.map((c) => c.method),
      ['POST', 'GET'],
      'the empty answer was confirmed by the query',
    );
    for (const ms of wechatpay.given) assert.ok(ms <= 3_500 - ANSWER_MS - RECORD_MS, `given ${ms} ms`);
  });
});
