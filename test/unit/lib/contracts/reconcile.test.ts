import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANSWER_MS, RECORD_MS } from '../../../../lib/contracts/budget';
import { type ContractState, EXPIRY_GRACE_MS, PRESIGN_TTL_MS } from '../../../../lib/contracts/lifecycle';
import type { ContractRecord } from '../../../../lib/contracts/model';
import type { ContractStore } from '../../../../lib/contracts/ports';
import { EXPIRED_RECHECK_MS } from '../../../../lib/contracts/recheck';
import { LOOK_MS, type ReconcileOptions, reconcile } from '../../../../lib/contracts/reconcile';
import type { SyncDeps } from '../../../../lib/contracts/sync';
import { WechatPayRejected, WechatPayUnavailable } from '../../../../lib/errors';
import type { SendOptions, WechatPayRequest, WechatPayResponse } from '../../../../lib/wechatpay/client';
import { PRESIGNED_BY_US } from '../../../support/contracts/fixtures';
import { gatewayDouble, jsonResponse } from '../../../support/contracts/gateway';
import { MemoryContractStore } from '../../../support/contracts/memory-store';

const NOW = Date.parse('2026-11-27T06:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Before this, a presign token may still be open (or WeChat Pay may lag): nothing is final yet. */
const SETTLED_BEFORE = NOW - PRESIGN_TTL_MS - EXPIRY_GRACE_MS;
const RECHECK = { signedIntervalMs: DAY };

type WechatState = 'NONE' | 'EFFECTIVE' | 'TERMINATED' | 'DOWN';

function record(code: string, state: ContractState, updatedAt: number): ContractRecord {
  return {
    ...PRESIGNED_BY_US,
    out_contract_code: code,
    state,
    ...(state === 'PRESIGNED' ? { expires_at: iso(updatedAt + PRESIGN_TTL_MS) } : {}),
    created_at: iso(updatedAt - 1000),
    updated_at: iso(updatedAt),
    version: 1,
  };
}

/** What WeChat Pay knows per code; counts queries and the most run at once. */
function wechatpay(states: Map<string, WechatState>) {
  let inFlight = 0;
  const seen = { queries: [] as string[], maxInFlight: 0, givenMs: [] as number[] };
  return gatewayDouble({
    seen,
    async call(request: WechatPayRequest, options?: SendOptions): Promise<WechatPayResponse> {
      const code = request.path.split('/').pop() ?? '';
      seen.queries.push(code);
      seen.givenMs.push(options?.remainingMs?.() ?? Number.NaN);
      inFlight++;
      seen.maxInFlight = Math.max(seen.maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight--;
      const state = states.get(code) ?? 'NONE';
      if (state === 'DOWN') throw new WechatPayUnavailable('HTTP 503 SYSTEM_ERROR after 3 attempts');
      if (state === 'NONE')
        throw new WechatPayRejected({ status: 404, code: 'RESOURCE_NOT_EXISTS', message: 'no' });
      const body = {
        out_contract_code: code,
        contract_id: `ID${code}`,
        contract_state: `CONTRACT_STATE_${state}`,
        repayment_amount_limit: 10000,
      };
      return jsonResponse(body);
    },
  });
}

/** A MemoryContractStore that records every method called on it, with its arguments. */
function spied(store: MemoryContractStore) {
  const calls: { method: string; args: unknown[] }[] = [];
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push({ method: String(property), args });
        return value.apply(target, args);
      };
    },
  }) as unknown as ContractStore;
  return { proxy, calls };
}

/** Records written as the store writes them (each placed in reconcile's queue), WeChat Pay's view, a clock. */
async function world(seed: [ContractRecord, WechatState][]) {
  const store = new MemoryContractStore(RECHECK);
  const states = new Map<string, WechatState>();
  for (const [r, s] of seed) {
    assert.ok(await store.save(r));
    states.set(r.out_contract_code, s);
  }
  const { proxy, calls } = spied(store);
  const gateway = wechatpay(states);
  const clock = { now: NOW };
  const deps: SyncDeps = { store: proxy, wechatpay: gateway, clock: () => clock.now };
  const run = (options: Partial<ReconcileOptions> = {}) =>
    reconcile(deps, { limit: 100, concurrency: 4, recheck: RECHECK, ...options });
  const state = (code: string) => store.items.get(code)?.state;
  return { store, states, calls, gateway, clock, run, state };
}

describe('reconcile', () => {
  it('finds work only in its queue, by key after that, never a scan; final records are not in it', async () => {
    const old = SETTLED_BEFORE - 5 * MINUTE;
    const w = await world([
      [record('A1', 'PRESIGNED', old), 'NONE'],
      [record('A2', 'PRESIGN_UNKNOWN', old - 1), 'EFFECTIVE'],
      [record('A3', 'PRESIGNING', old - 2), 'TERMINATED'],
      [record('F1', 'SIGNED', old), 'TERMINATED'],
      [record('F2', 'EXPIRED', old), 'EFFECTIVE'],
      [record('F3', 'PRESIGN_FAILED', old), 'EFFECTIVE'],
      [record('F4', 'TERMINATED', old), 'EFFECTIVE'],
    ]);
    w.calls.length = 0;
    const report = await w.run();
    assert.deepEqual([...new Set(w.calls.map((c) => c.method))].sort(), ['get', 'listDue', 'save']);
    assert.deepEqual(w.calls.filter((c) => c.method === 'listDue')[0]?.args, [iso(NOW), 100]);
    assert.deepEqual([w.state('A1'), w.state('A2'), w.state('A3')], ['EXPIRED', 'SIGNED', 'TERMINATED']);
    assert.deepEqual(
      [w.state('F1'), w.state('F2'), w.state('F3'), w.state('F4')],
      ['SIGNED', 'EXPIRED', 'PRESIGN_FAILED', 'TERMINATED'],
    );
    assert.deepEqual(report, {
      examined: 3,
      settled: { EXPIRED: 1, SIGNED: 1, TERMINATED: 1 },
      unchanged: 0,
      failed: 0,
    });
    assert.deepEqual(w.gateway.seen.queries.sort(), ['A1', 'A2', 'A3']);
    for (const code of ['F3', 'F4']) assert.equal(w.store.items.get(code)?.next_check_at, undefined, code);
  });

  it('leaves a contract alone while its presign token may still be open, then settles it', async () => {
    const w = await world([
      [record('P', 'PRESIGNED', SETTLED_BEFORE + MINUTE), 'NONE'],
      [record('U', 'PRESIGN_UNKNOWN', SETTLED_BEFORE + MINUTE), 'NONE'],
      [record('S', 'PRESIGNING', SETTLED_BEFORE + MINUTE), 'NONE'],
    ]);
    assert.equal((await w.run()).examined, 0);
    assert.deepEqual(w.gateway.seen.queries, [], 'WeChat Pay is not asked what it cannot answer yet');
    w.clock.now += MINUTE;
    assert.equal((await w.run()).settled.EXPIRED, 3);
  });

  it('bounds the work by limit and concurrency, the longest due first, and resumes where the last run stopped', async () => {
    const seed: [ContractRecord, WechatState][] = Array.from({ length: 23 }, (_, i) => [
      record(`R${String(i).padStart(2, '0')}`, 'PRESIGNED', SETTLED_BEFORE - (i + 1) * 1000),
      i % 2 ? 'NONE' : 'EFFECTIVE',
    ]);
    const w = await world(seed);
    const runs = [];
    for (let n = 0; n < 10; n++) {
      const report = await w.run({ limit: 5, concurrency: 3 });
      runs.push(report.examined);
      if (report.examined === 0) break;
    }
    assert.deepEqual(runs, [5, 5, 5, 5, 3, 0]);
    assert.ok(w.gateway.seen.maxInFlight <= 3, `${w.gateway.seen.maxInFlight} queries at once`);
    assert.equal(new Set(w.gateway.seen.queries).size, 23, 'each contract asked about once');
    assert.equal(w.gateway.seen.queries.length, 23);
    assert.equal(w.gateway.seen.queries[0], 'R22', 'the longest due first');
  });

  it('starts no look with under LOOK_MS of the function’s time left, and the next run finishes the rest', async () => {
    const seed: [ContractRecord, WechatState][] = Array.from({ length: 10 }, (_, i) => [
      record(`S${i}`, 'PRESIGN_UNKNOWN', SETTLED_BEFORE - (i + 1) * 1000),
      'NONE',
    ]);
    const w = await world(seed);
    // The time runs short once four contracts were asked about.
    const budget = { remainingMs: () => (w.gateway.seen.queries.length >= 4 ? LOOK_MS - 1 : 60_000) };
    const first = await w.run({ concurrency: 1, budget });
    assert.equal(first.examined, 4);
    assert.equal([...w.store.items.values()].filter((r) => r.state === 'EXPIRED').length, 4);
    const second = await w.run({ concurrency: 2 });
    assert.equal(second.examined, 6);
    assert.equal([...w.store.items.values()].filter((r) => r.state === 'EXPIRED').length, 10);
  });

  it('gives each query only the time that leaves room to record its answer, move the record back and answer', async () => {
    const w = await world([
      [record('H1', 'PRESIGNED', SETTLED_BEFORE - 2000), 'DOWN'],
      [record('H2', 'PRESIGNED', SETTLED_BEFORE - 1000), 'NONE'],
    ]);
    const report = await w.run({ budget: { remainingMs: () => 20_000 } });
    assert.deepEqual(report, { examined: 2, settled: { EXPIRED: 1 }, unchanged: 0, failed: 1 });
    // The run's answer, the move back, the sync's write and its own answer margin.
    assert.deepEqual(w.gateway.seen.givenMs, [
      20_000 - 2 * (ANSWER_MS + RECORD_MS),
      20_000 - 2 * (ANSWER_MS + RECORD_MS),
    ]);
  });

  it('moves a contract WeChat Pay cannot answer for to the back, retrying it with a doubling backoff', async () => {
    const w = await world([
      [record('D', 'PRESIGNED', SETTLED_BEFORE - 3000), 'DOWN'],
      [record('E', 'PRESIGNED', SETTLED_BEFORE - 2000), 'EFFECTIVE'],
    ]);
    const errors: string[] = [];
    const report = await w.run({
      onError: (code, error) => errors.push(`${code}: ${(error as Error).name}`),
    });
    assert.deepEqual(report, { examined: 2, settled: { SIGNED: 1 }, unchanged: 0, failed: 1 });
    assert.deepEqual(errors, ['D: WechatPayUnavailable']);
    const backoffs: number[] = [];
    for (let n = 0; n < 8; n++) {
      const due = w.store.items.get('D');
      assert.equal(due?.state, 'PRESIGNED');
      backoffs.push((Date.parse(String(due?.next_check_at)) - w.clock.now) / MINUTE);
      assert.equal((await w.run()).examined, 0, 'not retried before its time');
      w.clock.now = Date.parse(String(due?.next_check_at));
      assert.equal((await w.run()).failed, 1);
    }
    assert.deepEqual(backoffs, [5, 10, 20, 40, 80, 160, 320, 360], 'minutes, doubling up to 6 hours');
    w.states.set('D', 'NONE');
    w.clock.now += 6 * 60 * MINUTE;
    assert.deepEqual((await w.run()).settled, { EXPIRED: 1 });
    assert.equal(w.store.items.get('D')?.check_attempts, undefined, 'the write started afresh');
  });

  it('200 records it cannot settle do not stop a settleable one: each run makes progress', async () => {
    const stuck: [ContractRecord, WechatState][] = Array.from({ length: 200 }, (_, i) => [
      record(`STUCK${i}`, 'PRESIGN_UNKNOWN', SETTLED_BEFORE - (300 - i) * 1000),
      'DOWN',
    ]);
    const w = await world([...stuck, [record('LATE', 'PRESIGNED', SETTLED_BEFORE - 1000), 'EFFECTIVE']]);
    const first = await w.run({ limit: 200 });
    assert.deepEqual([first.examined, first.failed], [200, 200], 'the 200 were due first');
    assert.equal(w.state('LATE'), 'PRESIGNED');
    const second = await w.run({ limit: 200 });
    assert.deepEqual([second.examined, second.settled], [1, { SIGNED: 1 }]);
    assert.equal(w.state('LATE'), 'SIGNED');
  });

  it('asks again about a SIGNED contract once a cycle, so a lost TERMINATE_CONTRACT is learned', async () => {
    const signedAt = NOW - DAY + MINUTE;
    const w = await world([
      [record('KEPT', 'SIGNED', signedAt), 'EFFECTIVE'],
      [record('ENDED', 'SIGNED', signedAt), 'TERMINATED'],
    ]);
    assert.equal((await w.run()).examined, 0, 'not within the cycle');
    w.clock.now += MINUTE;
    const report = await w.run();
    assert.deepEqual([report.examined, report.unchanged, report.settled], [2, 1, { TERMINATED: 1 }]);
    assert.equal(w.state('ENDED'), 'TERMINATED');
    assert.equal(
      w.store.items.get('ENDED')?.next_check_at,
      undefined,
      'TERMINATED is final: out of the queue',
    );
    assert.equal(w.store.items.get('KEPT')?.next_check_at, iso(w.clock.now + DAY), 'next cycle');
  });

  it('gives an EXPIRED contract one late look: a signing shown late is learned, then never asked again', async () => {
    const expiredAt = NOW - EXPIRED_RECHECK_MS;
    const w = await world([
      [record('LATE', 'EXPIRED', expiredAt), 'EFFECTIVE'],
      [record('NEVER', 'EXPIRED', expiredAt), 'NONE'],
    ]);
    const report = await w.run();
    assert.deepEqual([report.examined, report.unchanged, report.settled], [2, 1, { SIGNED: 1 }]);
    assert.equal(w.state('LATE'), 'SIGNED');
    assert.equal(w.state('NEVER'), 'EXPIRED');
    assert.equal(w.store.items.get('NEVER')?.next_check_at, undefined, 'its one late look is done');
    w.clock.now += 30 * DAY;
    w.gateway.seen.queries.length = 0;
    await w.run();
    assert.ok(!w.gateway.seen.queries.includes('NEVER'));
  });

  it('records written before the queue existed are found once the migration placed them', async () => {
    const w = await world([]);
    const legacy = record('OLD', 'PRESIGNED', SETTLED_BEFORE - MINUTE);
    w.store.items.set('OLD', legacy);
    w.store.items.set('DONE', record('DONE', 'TERMINATED', SETTLED_BEFORE));
    assert.equal((await w.run()).examined, 0, 'not in the queue yet');
    assert.deepEqual(await w.store.enqueueUnqueued(10), { queued: 1 });
    assert.deepEqual((await w.run()).settled, { EXPIRED: 1 });
  });
});
