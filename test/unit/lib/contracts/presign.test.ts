import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ANSWER_MS, MIN_ATTEMPT_MS, RECORD_MS } from '../../../../lib/contracts/budget';
import { PRESIGN_TTL_MS } from '../../../../lib/contracts/lifecycle';
import type { ContractRecord } from '../../../../lib/contracts/model';
import { type PresignDeps, presign } from '../../../../lib/contracts/presign';
import {
  ContractCodeUsed,
  DependencyUnavailable,
  PresignInProgress,
  WechatPayRejected,
  WechatPayUnavailable,
} from '../../../../lib/errors';
import type { SignedRequest, WechatPayRequest, WechatPayResponse } from '../../../../lib/wechatpay/client';
import { h5Body, PERSON } from '../../../support/contracts/fixtures';
import { gatewayDouble, jsonResponse } from '../../../support/contracts/gateway';
import { MemoryContractStore } from '../../../support/contracts/memory-store';
import { presignTestDeps } from '../../../support/contracts/presign-deps';

const T0 = Date.parse('2026-11-27T04:00:00Z');

/** A WeChat Pay gateway double: records what was sent, answers with `answer()`. */
function gateway(
  answer: () => Promise<unknown> = async () => ({ redirect_url: 'https://wx.example/sign?t=1' }),
) {
  const sent: SignedRequest[] = [];
  let signFailure: Error | undefined;
  return gatewayDouble({
    sent,
    failSigning(error: Error | undefined) {
      signFailure = error;
    },
    encrypt: (plaintext: string) => `ENC(${Buffer.from(plaintext).toString('base64').length})`,
    async sign(request: WechatPayRequest): Promise<SignedRequest> {
      if (signFailure) throw signFailure;
      return {
        request,
        url: `https://wx.example${request.path}`,
        body: JSON.stringify(request.body),
        headers: {},
      };
    },
    async send(signed: SignedRequest): Promise<WechatPayResponse> {
      sent.push(signed);
      return jsonResponse(await answer(), 'req-1');
    },
  });
}

function setup(answer?: () => Promise<unknown>) {
  const store = new MemoryContractStore();
  const wechatpay = gateway(answer);
  const deps: PresignDeps = presignTestDeps({ store, wechatpay, clock: () => T0 });
  return { store, wechatpay, deps };
}

test('success stores PRESIGNED with the redirect URL and a 10-minute expiry; WeChat Pay gets the encrypted identity', async () => {
  const { store, wechatpay, deps } = setup();
  const body = h5Body();
  const { result, replayed } = await presign(deps, 'H5', body);
  assert.equal(replayed, false);
  assert.deepEqual(result, {
    out_contract_code: body.out_contract_code,
    state: 'PRESIGNED',
    redirect_url: 'https://wx.example/sign?t=1',
    expires_at: new Date(T0 + PRESIGN_TTL_MS).toISOString(),
  });
  const sent = JSON.parse(wechatpay.sent[0]?.body ?? '{}');
  assert.equal(sent.contract_notify_url, deps.notifyUrl);
  assert.match(sent.real_identity.identity_id, /^ENC\(/);
  assert.match(sent.real_identity.real_name, /^ENC\(/);
  const item = store.items.get(String(body.out_contract_code));
  assert.equal(item?.state, 'PRESIGNED');
  assert.equal(item?.wechatpay_request_id, 'req-1');
  const stored = JSON.stringify(item);
  assert.ok(!stored.includes(PERSON.id) && !stored.includes(PERSON.name), 'no personal data in the item');
});

test('sign-and-repay: trade_info.notify_url defaults to our callback route, and a given one is kept', async () => {
  const { wechatpay, deps } = setup();
  const trade = { out_trade_no: 'T20261127', deduct_amount: 500 };
  await presign(deps, 'H5', h5Body({ trade_info: trade }));
  await presign(deps, 'H5', h5Body({ trade_info: { ...trade, notify_url: 'https://lender.example/pay' } }));
  const notifyUrls = wechatpay.sent.map((s) => JSON.parse(s.body).trade_info.notify_url);
  assert.deepEqual(notifyUrls, [deps.notifyUrl, 'https://lender.example/pay']);
});

test('an identical retry replays without calling WeChat Pay; a different body gets CONTRACT_CODE_USED', async () => {
  const { wechatpay, deps } = setup();
  const body = h5Body();
  await presign(deps, 'H5', body);
  const again = await presign(deps, 'H5', structuredClone(body));
  assert.equal(again.replayed, true);
  assert.equal(wechatpay.sent.length, 1);
  await assert.rejects(presign(deps, 'H5', { ...body, repayment_amount_limit: '20000' }), (e: unknown) => {
    assert.ok(e instanceof ContractCodeUsed);
    assert.equal(e.state, 'PRESIGNED');
    return true;
  });
});

test('a replay after the token lapsed is a conflict, not a stale redirect URL', async () => {
  const { deps } = setup();
  const body = h5Body();
  await presign(deps, 'H5', body);
  await assert.rejects(presign({ ...deps, clock: () => T0 + PRESIGN_TTL_MS }, 'H5', body), ContractCodeUsed);
});

test('the same request while the first is in flight gets PRESIGN_IN_PROGRESS', async () => {
  let release: () => void = () => {};
  const { wechatpay, deps } = setup(
    () => new Promise((resolve) => (release = () => resolve({ redirect_url: 'https://wx.example/s' }))),
  );
  const body = h5Body();
  const first = presign(deps, 'H5', body);
  await new Promise((r) => setImmediate(r));
  await assert.rejects(presign(deps, 'H5', body), PresignInProgress);
  release();
  assert.equal((await first).replayed, false);
  assert.equal(wechatpay.sent.length, 1);
});

test('a WeChat Pay 4xx burns the code as PRESIGN_FAILED and surfaces WeChat Pay’s code', async () => {
  const rejected = new WechatPayRejected({
    status: 400,
    code: 'PARAM_ERROR',
    message: 'bad plan',
    request_id: 'r9',
  });
  const { store, deps } = setup(async () => {
    throw rejected;
  });
  const body = h5Body();
  await assert.rejects(presign(deps, 'H5', body), rejected);
  const item = store.items.get(String(body.out_contract_code)) as ContractRecord;
  assert.equal(item.state, 'PRESIGN_FAILED');
  assert.deepEqual(item.wechatpay_error, {
    status: 400,
    code: 'PARAM_ERROR',
    message: 'bad plan',
    request_id: 'r9',
  });
  await assert.rejects(presign(deps, 'H5', body), ContractCodeUsed);
});

test('5xx or timeouts past the retries leave PRESIGN_UNKNOWN and answer WECHATPAY_UNAVAILABLE', async () => {
  const { store, deps } = setup(async () => {
    throw new WechatPayUnavailable('HTTP 500 SYSTEM_ERROR after 3 attempts');
  });
  const body = h5Body();
  await assert.rejects(presign(deps, 'H5', body), WechatPayUnavailable);
  assert.equal(store.items.get(String(body.out_contract_code))?.state, 'PRESIGN_UNKNOWN');
});

test('KMS failing: WeChat Pay is never called, and the identical retry resumes the claimed code', async () => {
  const { store, wechatpay, deps } = setup();
  wechatpay.failSigning(new DependencyUnavailable('KMS', 'Sign failed: ThrottlingException'));
  const body = h5Body();
  await assert.rejects(presign(deps, 'H5', body), DependencyUnavailable);
  assert.equal(wechatpay.sent.length, 0);
  assert.equal(store.items.get(String(body.out_contract_code))?.local_failure, true);
  await assert.rejects(presign(deps, 'H5', { ...body, plan_id: '999' }), ContractCodeUsed);
  wechatpay.failSigning(undefined);
  const retry = await presign(deps, 'H5', body);
  assert.equal(retry.result.state, 'PRESIGNED');
  assert.equal(wechatpay.sent.length, 1);
});

test('DynamoDB failing at the claim: WeChat Pay is never called', async () => {
  const { store, wechatpay, deps } = setup();
  store.claim = async () => {
    throw new DependencyUnavailable('DynamoDB', 'PutItem failed');
  };
  await assert.rejects(presign(deps, 'H5', h5Body()), DependencyUnavailable);
  assert.equal(wechatpay.sent.length, 0);
});

test('DynamoDB failing after WeChat Pay accepted: the caller still gets the redirect URL, marked unstored', async () => {
  const { store, deps } = setup();
  store.transition = async () => {
    throw new DependencyUnavailable('DynamoDB', 'UpdateItem failed');
  };
  const outcome = await presign(deps, 'H5', h5Body());
  assert.equal(outcome.stored, false);
  assert.equal(outcome.result.redirect_url, 'https://wx.example/sign?t=1');
  assert.deepEqual(outcome.stored === false && outcome.storeFailure, {
    reason: 'PRESIGNED not recorded: DynamoDB unavailable: UpdateItem failed',
  });
});

test('a record moved on before PRESIGNED was written: unstored, and the reason names the version', async () => {
  const { store, deps } = setup(async () => {
    // The user signed at once and the callback won the race to the record.
    for (const item of store.items.values()) item.version += 1;
    return { redirect_url: 'https://wx.example/sign?t=1' };
  });
  const outcome = await presign(deps, 'H5', h5Body());
  assert.deepEqual(outcome.stored === false && outcome.storeFailure, {
    reason: 'the record moved on from version 1 before it could become PRESIGNED',
  });
});

test('a stored presign reports no store failure', async () => {
  const { deps } = setup();
  const outcome = await presign(deps, 'H5', h5Body());
  assert.equal(outcome.stored, true);
  assert.equal('storeFailure' in outcome, false);
});

test('a failure that could not be recorded carries the reason on the error it throws', async () => {
  const { store, wechatpay, deps } = setup(async () => {
    throw new WechatPayRejected({ status: 400, code: 'PARAM_ERROR', message: 'bad plan' });
  });
  store.transition = async () => {
    throw new DependencyUnavailable('DynamoDB', 'UpdateItem failed');
  };
  const body = h5Body();
  await assert.rejects(presign(deps, 'H5', body), (error: unknown) => {
    assert.ok(error instanceof WechatPayRejected);
    assert.deepEqual((error as { storeFailure?: unknown }).storeFailure, {
      reason: 'PRESIGN_FAILED not recorded: DynamoDB unavailable: UpdateItem failed',
    });
    return true;
  });
  assert.equal(store.items.get(String(body.out_contract_code))?.state, 'PRESIGNING', 'the claim is kept');
  wechatpay.failSigning(new DependencyUnavailable('KMS', 'Sign failed'));
  await assert.rejects(presign(deps, 'H5', h5Body()), (error: unknown) => {
    assert.ok(error instanceof DependencyUnavailable);
    assert.match(
      String((error as { storeFailure?: { reason: string } }).storeFailure?.reason),
      /^PRESIGNING not/,
    );
    return true;
  });
});

test('APP presign returns the presign token', async () => {
  const { deps } = setup(async () => ({ presign_token: 'tok-1' }));
  const { jump_info: _omit, ...body } = h5Body();
  const { result } = await presign(deps, 'APP', body);
  assert.equal(result.presign_token, 'tok-1');
  assert.equal(result.redirect_url, undefined);
});

test('an update whose answer was lost after it landed (the SDK retry met it) counts as recorded', async () => {
  const { store, deps } = setup();
  const transition = store.transition.bind(store);
  store.transition = async (current, changes) => {
    await transition(current, changes);
    return undefined;
  };
  const body = h5Body();
  const outcome = await presign(deps, 'H5', body);
  assert.equal(outcome.stored, true);
  assert.equal(store.items.get(String(body.out_contract_code))?.state, 'PRESIGNED');
});

test('a claim left by an attempt that died: in progress within the lease, taken over after it', async () => {
  const { store, wechatpay, deps } = setup();
  const body = h5Body();
  const code = String(body.out_contract_code);
  store.transition = async () => {
    throw new DependencyUnavailable('DynamoDB', 'UpdateItem failed');
  };
  wechatpay.failSigning(new DependencyUnavailable('KMS', 'Sign failed'));
  await assert.rejects(presign(deps, 'H5', body), DependencyUnavailable);
  const dead = store.items.get(code);
  assert.equal(dead?.state, 'PRESIGNING');
  assert.equal(dead?.local_failure, undefined, 'the owner could record nothing');

  store.transition = MemoryContractStore.prototype.transition.bind(store);
  wechatpay.failSigning(undefined);
  const within = { ...deps, clock: () => T0 + deps.claimLeaseMs - 1 };
  await assert.rejects(presign(within, 'H5', body), PresignInProgress);
  const after = { ...deps, clock: () => T0 + deps.claimLeaseMs };
  const taken = await presign(after, 'H5', body);
  assert.equal(taken.result.state, 'PRESIGNED');
  assert.notEqual(store.items.get(code)?.claim_token, dead?.claim_token, 'the claim is the new attempt’s');
});

test('a taken-over claim whose WeChat Pay refusal may be the dead owner’s doing: PRESIGN_UNKNOWN, not FAILED', async () => {
  const used = new WechatPayRejected({ status: 400, code: 'INVALID_REQUEST', message: '协议号已存在' });
  const { store, deps } = setup(async () => {
    throw used;
  });
  const body = h5Body();
  const code = String(body.out_contract_code);
  await store.claim({
    ...(await claimOf(deps, body)),
    claim_token: 'the dead owner',
  });
  const after = { ...deps, clock: () => T0 + deps.claimLeaseMs };
  await assert.rejects(presign(after, 'H5', body), WechatPayUnavailable);
  assert.equal(store.items.get(code)?.state, 'PRESIGN_UNKNOWN');
  assert.equal(store.items.get(code)?.claim_inherited, true);
});

/** The record presign's own claim of `body` writes (read back from a scratch store). */
async function claimOf(deps: PresignDeps, body: Record<string, unknown>): Promise<ContractRecord> {
  const scratch = new MemoryContractStore();
  const failing = gateway(async () => {
    throw new WechatPayUnavailable('not sent');
  });
  await presign({ ...deps, store: scratch, wechatpay: failing }, 'H5', body).catch(() => undefined);
  const claimed = scratch.items.get(String(body.out_contract_code));
  if (!claimed) throw new Error('nothing claimed');
  return { ...claimed, state: 'PRESIGNING', version: 1 };
}

test('a claim that gets no answer in the time left: DependencyUnavailable in time, WeChat Pay never called', async () => {
  const { store, wechatpay, deps } = setup();
  store.claim = () => new Promise(() => {});
  const budget = { remainingMs: () => RECORD_MS + ANSWER_MS + MIN_ATTEMPT_MS + 50 };
  const started = Date.now();
  await assert.rejects(presign(deps, 'H5', h5Body(), budget), /DynamoDB unavailable: PutItem got no answer/);
  assert.ok(Date.now() - started < MIN_ATTEMPT_MS + 500);
  assert.equal(wechatpay.sent.length, 0);
});

test('a record write that gets no answer before the deadline: the link is still answered, marked unstored', async () => {
  let left = 10_000;
  const { store, deps } = setup(async () => {
    // WeChat Pay answered late: only the answer's own time is left.
    left = ANSWER_MS + 100;
    return { redirect_url: 'https://wx.example/sign?t=1' };
  });
  store.transition = () => new Promise(() => {});
  const started = Date.now();
  const outcome = await presign(deps, 'H5', h5Body(), { remainingMs: () => left });
  assert.ok(Date.now() - started < 1000, 'gave up the write in time');
  assert.equal(outcome.result.redirect_url, 'https://wx.example/sign?t=1');
  assert.match(
    outcome.stored === false ? outcome.storeFailure.reason : '',
    /PRESIGNED not recorded: no answer before the function's deadline/,
  );
});

test('too little time left to claim safely: refused before anything is written', async () => {
  const { store, deps } = setup();
  await assert.rejects(
    presign(deps, 'H5', h5Body(), { remainingMs: () => RECORD_MS }),
    DependencyUnavailable,
  );
  assert.equal(store.items.size, 0);
});
