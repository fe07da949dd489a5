import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANSWER_MS, RECORD_MS } from '../../../../lib/contracts/budget';
import {
  applyFacts,
  type ContractState,
  EXPIRY_GRACE_MS,
  lapsesAt,
  PRESIGN_TTL_MS,
} from '../../../../lib/contracts/lifecycle';
import type { ContractRecord } from '../../../../lib/contracts/model';
import { type SyncDeps, syncContract } from '../../../../lib/contracts/sync';
import { WechatPayRejected, WechatPayUnavailable } from '../../../../lib/errors';
import type { SendOptions, WechatPayRequest, WechatPayResponse } from '../../../../lib/wechatpay/client';
import { contractPath, parseContract } from '../../../../lib/wechatpay/credit-repayment';
import { PERSON, PRESIGNED_BY_US } from '../../../support/contracts/fixtures';
import { gatewayDouble, jsonResponse } from '../../../support/contracts/gateway';
import { MemoryContractStore } from '../../../support/contracts/memory-store';

const T0 = Date.parse('2026-11-27T04:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const CODE = 'C2026112700002';

const notFound = () =>
  new WechatPayRejected({ status: 404, code: 'RESOURCE_NOT_EXISTS', message: '协议不存在', request_id: 'r' });

/** WeChat Pay's query API as the use case sees it: `answer` returns the JSON body or throws. */
function gateway(answer: (request: WechatPayRequest) => unknown) {
  const calls: { request: WechatPayRequest; options?: SendOptions }[] = [];
  return gatewayDouble({
    calls,
    async call(request: WechatPayRequest, options?: SendOptions): Promise<WechatPayResponse> {
      calls.push({ request, ...(options ? { options } : {}) });
      return jsonResponse(answer(request));
    },
  });
}

function record(state: ContractState, overrides: Partial<ContractRecord> = {}): ContractRecord {
  return {
    ...PRESIGNED_BY_US,
    out_contract_code: CODE,
    state,
    expires_at: iso(T0 + PRESIGN_TTL_MS),
    created_at: iso(T0),
    updated_at: iso(T0),
    version: 2,
    ...overrides,
  };
}

/** The query API as WeChat Pay answers it: an integer limit and, in older answers, the old mode name. */
const queryAnswer = (state: string, extra: Record<string, unknown> = {}) => ({
  contract_id: '202611270000000000000000002',
  plan_id: '123',
  out_contract_code: CODE,
  display_name: PERSON.display,
  contract_state: state,
  contract_signed_time: '2026-11-27T12:03:00+08:00',
  repayment_amount_limit: 10000,
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  appid: 'wxd678efh567hg6787',
  ...extra,
});

function setup(stored: ContractRecord | undefined, answer: (r: WechatPayRequest) => unknown, now: number) {
  const store = new MemoryContractStore();
  if (stored) store.items.set(stored.out_contract_code, structuredClone(stored));
  const wechatpay = gateway(answer);
  const deps: SyncDeps = { store, wechatpay, clock: () => now };
  return { store, wechatpay, deps };
}

describe('syncContract', () => {
  it('asks the query API for the code, with retries, and repairs a lost SIGN callback', async () => {
    const { store, wechatpay, deps } = setup(
      record('PRESIGNED'),
      () => queryAnswer('CONTRACT_STATE_EFFECTIVE'),
      T0 + 60_000,
    );
    const { record: next, changed } = await syncContract(deps, CODE);
    assert.equal(changed, true);
    assert.equal(next?.state, 'SIGNED');
    assert.equal(next?.contract_id, '202611270000000000000000002');
    assert.equal(next?.repayment_amount_limit, '10000', 'the integer limit is stored as our string');
    assert.deepEqual(
      wechatpay.calls.map((c) => [c.request, c.options?.retry, c.options?.remainingMs?.()]),
      [[{ method: 'GET', path: contractPath(CODE) }, true, Number.POSITIVE_INFINITY]],
    );
    assert.equal((await store.get(CODE))?.state, 'SIGNED');
  });

  it('within the function’s time: the query keeps time to record its answer; a write that hangs is not waited for', async () => {
    const { store, wechatpay, deps } = setup(
      record('PRESIGNED'),
      () => queryAnswer('CONTRACT_STATE_EFFECTIVE'),
      T0 + 60_000,
    );
    const deadline = Date.now() + 3_300;
    const budget = { remainingMs: () => deadline - Date.now() };
    store.save = () => new Promise(() => {});
    const started = Date.now();
    await assert.rejects(syncContract(deps, CODE, budget), (error: Error) => {
      assert.equal(error.name, 'DependencyUnavailable');
      assert.match(
        error.message,
        /recording the query’s answer got no answer in the time the function had left/,
      );
      return true;
    });
    const took = Date.now() - started;
    assert.ok(took < 3_300 - ANSWER_MS + 200, `answered after ${took} ms, leaving the answer its time`);
    const given = wechatpay.calls[0]?.options?.remainingMs?.() ?? 0;
    assert.ok(given <= 3_300 - RECORD_MS - ANSWER_MS, `the query was given ${given} ms`);
  });

  it('changes nothing when WeChat Pay repeats what we know', async () => {
    const signed = applyFacts(
      record('PRESIGNED'),
      parseContract(queryAnswer('CONTRACT_STATE_EFFECTIVE')),
      'QUERY',
      iso(T0),
    );
    assert.ok(signed);
    const { deps, store } = setup(signed, () => queryAnswer('CONTRACT_STATE_EFFECTIVE'), T0 + 60_000);
    const result = await syncContract(deps, CODE);
    assert.deepEqual(result, { record: signed, changed: false });
    assert.equal((await store.get(CODE))?.version, signed.version);
  });

  it('accepts contract_termination_mode (the pre-2026 name) and a string limit', async () => {
    const { deps } = setup(
      record('SIGNED'),
      () =>
        queryAnswer('CONTRACT_STATE_TERMINATED', {
          repayment_amount_limit: '10000',
          contract_termination_mode: 'TERMINATION_MODE_BY_USER',
          contract_terminated_time: '2026-11-27T12:30:00+08:00',
        }),
      T0,
    );
    const { record: next } = await syncContract(deps, CODE);
    assert.equal(next?.state, 'TERMINATED');
    assert.equal(next?.contract_terminated_mode, 'TERMINATION_MODE_BY_USER');
    assert.equal(next?.repayment_amount_limit, '10000');
  });

  it('never moves a TERMINATED contract back, whatever the query says', async () => {
    const { deps } = setup(record('TERMINATED'), () => queryAnswer('CONTRACT_STATE_EFFECTIVE'), T0);
    const { record: next, changed } = await syncContract(deps, CODE);
    assert.equal(changed, false);
    assert.equal(next?.state, 'TERMINATED');
  });

  it('creates the record from the query for a code WeChat Pay knows and we do not', async () => {
    const { deps } = setup(undefined, () => queryAnswer('CONTRACT_STATE_EFFECTIVE'), T0);
    const { record: next, changed } = await syncContract(deps, CODE);
    assert.equal(changed, true);
    assert.equal(next?.origin, 'QUERY');
    assert.equal(next?.state, 'SIGNED');
  });

  it('answers "unknown to both" when neither we nor WeChat Pay know the code', async () => {
    const { deps } = setup(
      undefined,
      () => {
        throw notFound();
      },
      T0,
    );
    assert.deepEqual(await syncContract(deps, CODE), { changed: false });
  });

  describe('"no such contract" at WeChat Pay', () => {
    const throwNotFound = () => {
      throw notFound();
    };
    const lapse = T0 + PRESIGN_TTL_MS + EXPIRY_GRACE_MS;

    it('expires a PRESIGNED contract once its token lapsed plus the grace period, not before', async () => {
      const early = setup(record('PRESIGNED'), throwNotFound, lapse - 1);
      assert.equal((await syncContract(early.deps, CODE)).changed, false);
      const late = setup(record('PRESIGNED'), throwNotFound, lapse);
      const { record: next, changed } = await syncContract(late.deps, CODE);
      assert.equal(changed, true);
      assert.equal(next?.state, 'EXPIRED');
      assert.equal(next?.updated_at, iso(lapse));
      assert.equal(next?.version, 3);
    });

    it('expires PRESIGNING and PRESIGN_UNKNOWN records, which have no expires_at', async () => {
      for (const state of ['PRESIGNING', 'PRESIGN_UNKNOWN'] as const) {
        const stale = record(state, { expires_at: undefined, local_failure: true });
        const { deps } = setup(stale, throwNotFound, lapse);
        const { record: next } = await syncContract(deps, CODE);
        assert.equal(next?.state, 'EXPIRED', state);
        assert.equal(next && 'local_failure' in next, false, 'a settled record is no longer resumable');
      }
    });

    it('counts the lapse from the last presign attempt, not from the claim', async () => {
      // Claimed at T0, signing failed, resumed by the identical retry 20 minutes later: WeChat Pay saw the
      // code only then, so its token is valid until 30 minutes after T0.
      const resumedAt = T0 + 20 * 60_000;
      const resumed = record('PRESIGNING', { expires_at: undefined, updated_at: iso(resumedAt) });
      assert.equal(lapsesAt(resumed), resumedAt + PRESIGN_TTL_MS);
      const { deps } = setup(resumed, throwNotFound, resumedAt + 5 * 60_000);
      const { record: next, changed } = await syncContract(deps, CODE);
      assert.equal(changed, false, 'the user may still be signing');
      assert.equal(next?.state, 'PRESIGNING');
    });

    it('never expires a contract that reached SIGNED, PRESIGN_FAILED or a final state', async () => {
      for (const state of ['SIGNED', 'PRESIGN_FAILED', 'EXPIRED', 'TERMINATED'] as const) {
        const { deps } = setup(record(state), throwNotFound, lapse + 3_600_000);
        const { record: next, changed } = await syncContract(deps, CODE);
        assert.equal(changed, false, state);
        assert.equal(next?.state, state);
      }
    });
  });

  it('re-reads and judges again when a callback wrote first, so the change is written once', async () => {
    const { store, deps } = setup(
      record('PRESIGNED'),
      () => queryAnswer('CONTRACT_STATE_EFFECTIVE'),
      T0 + 60_000,
    );
    const save = store.save.bind(store);
    let saves = 0;
    store.save = async (next) => {
      saves++;
      if (saves === 1) {
        // The SIGN_CONTRACT callback lands between our read and our write.
        const current = await store.get(CODE);
        const signed = applyFacts(
          current,
          parseContract(queryAnswer('CONTRACT_STATE_EFFECTIVE')),
          'CALLBACK',
          iso(T0),
        );
        assert.ok(signed && (await save(signed)));
      }
      return save(next);
    };
    const { record: next, changed } = await syncContract(deps, CODE);
    assert.equal(changed, false, 'the callback already did it');
    assert.equal(next?.state, 'SIGNED');
    assert.equal(saves, 1);
    assert.equal((await store.get(CODE))?.version, 3, 'one write in all');
  });

  it('gives up, naming the code, when the record keeps changing under it', async () => {
    const { store, deps } = setup(
      record('PRESIGNED'),
      () => queryAnswer('CONTRACT_STATE_EFFECTIVE'),
      T0 + 60_000,
    );
    store.save = async () => false;
    await assert.rejects(syncContract(deps, CODE), new RegExp(`contract ${CODE} kept changing`));
  });

  it('passes WeChat Pay failures through and reports an unusable answer as WechatPayUnavailable', async () => {
    const down = setup(
      record('PRESIGNED'),
      () => {
        throw new WechatPayUnavailable('HTTP 503 SYSTEM_ERROR after 3 attempts');
      },
      T0,
    );
    await assert.rejects(syncContract(down.deps, CODE), WechatPayUnavailable);
    const refused = setup(
      record('PRESIGNED'),
      () => {
        throw new WechatPayRejected({ status: 403, code: 'NO_AUTH', message: 'no' });
      },
      T0,
    );
    await assert.rejects(syncContract(refused.deps, CODE), WechatPayRejected);
    const garbled = setup(record('PRESIGNED'), () => ({ contract_id: 'x' }), T0);
    await assert.rejects(syncContract(garbled.deps, CODE), (error: Error) => {
      assert.ok(error instanceof WechatPayUnavailable);
      assert.match(error.message, /missing out_contract_code/);
      return true;
    });
    assert.equal((await down.store.get(CODE))?.state, 'PRESIGNED', 'nothing written on failure');
  });
});
