import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ContractState, EXPIRY_GRACE_MS, PRESIGN_TTL_MS } from '../../../../lib/contracts/lifecycle';
import type { ContractRecord } from '../../../../lib/contracts/model';
import type { ContractStore } from '../../../../lib/contracts/ports';
import { type ReconcileOptions, reconcile } from '../../../../lib/contracts/reconcile';
import type { SyncDeps } from '../../../../lib/contracts/sync';
import { WechatPayRejected, WechatPayUnavailable } from '../../../../lib/errors';
import type { WechatPayRequest, WechatPayResponse } from '../../../../lib/wechatpay/client';
import { gatewayDouble, jsonResponse } from '../../../support/contracts/gateway';
import { PRESIGNED_BY_US } from '../../../support/fixtures';
import { MemoryContractStore } from '../../../support/memory-store';

const NOW = Date.parse('2026-11-27T06:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const MINUTE = 60_000;
/** Before this, a presign token may still be open (or WeChat Pay may lag): nothing is final yet. */
const SETTLED_BEFORE = NOW - PRESIGN_TTL_MS - EXPIRY_GRACE_MS;

type WechatState = 'NONE' | 'EFFECTIVE' | 'TERMINATED' | 'DOWN';

function record(code: string, state: ContractState, updatedAt: number): ContractRecord {
  return {
    ...PRESIGNED_BY_US,
    out_contract_code: code,
    state,
    ...(state === 'PRESIGNED' ? { expires_at: iso(updatedAt + PRESIGN_TTL_MS) } : {}),
    created_at: iso(updatedAt - 1000),
    updated_at: iso(updatedAt),
    version: 2,
  };
}

/** What WeChat Pay knows per code; counts queries and the most run at once. */
function wechatpay(states: Map<string, WechatState>) {
  let inFlight = 0;
  const seen = { queries: [] as string[], maxInFlight: 0 };
  return gatewayDouble({
    seen,
    async call(request: WechatPayRequest): Promise<WechatPayResponse> {
      const code = request.path.split('/').pop() ?? '';
      seen.queries.push(code);
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
  }) as ContractStore;
  return { proxy, calls };
}

function world(seed: [ContractRecord, WechatState][]) {
  const store = new MemoryContractStore();
  const states = new Map<string, WechatState>();
  for (const [r, s] of seed) {
    store.items.set(r.out_contract_code, r);
    states.set(r.out_contract_code, s);
  }
  const { proxy, calls } = spied(store);
  const gateway = wechatpay(states);
  const deps: SyncDeps = { store: proxy, wechatpay: gateway, clock: () => NOW };
  const run = (options: Partial<ReconcileOptions> = {}) =>
    reconcile(deps, { limit: 100, concurrency: 4, ...options });
  return { store, states, calls, gateway, run, state: (code: string) => store.items.get(code)?.state };
}

describe('reconcile', () => {
  it('finds work only through listStale on the three unsettled states, oldest first, never a scan', async () => {
    const old = SETTLED_BEFORE - 5 * MINUTE;
    const w = world([
      [record('A1', 'PRESIGNED', old), 'NONE'],
      [record('A2', 'PRESIGN_UNKNOWN', old - 1), 'EFFECTIVE'],
      [record('A3', 'PRESIGNING', old - 2), 'TERMINATED'],
      [record('F1', 'SIGNED', old), 'TERMINATED'],
      [record('F2', 'EXPIRED', old), 'EFFECTIVE'],
      [record('F3', 'PRESIGN_FAILED', old), 'EFFECTIVE'],
      [record('F4', 'TERMINATED', old), 'EFFECTIVE'],
    ]);
    const report = await w.run();
    const used = new Set(w.calls.map((c) => c.method));
    assert.deepEqual(
      [...used].sort(),
      ['get', 'listStale', 'save'],
      'finds through listStale, reads and writes by key',
    );
    const listed = w.calls.filter((c) => c.method === 'listStale').map((c) => c.args[0]);
    assert.deepEqual(listed.sort(), ['PRESIGNED', 'PRESIGNING', 'PRESIGN_UNKNOWN']);
    const touched = new Set(
      w.calls.filter((c) => c.method !== 'listStale').map((c) => c.args[0] as ContractRecord | string),
    );
    for (const key of touched) {
      const code = typeof key === 'string' ? key : key.out_contract_code;
      assert.ok(['A1', 'A2', 'A3'].includes(code), `read or wrote ${code}, which listStale never returned`);
    }
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
  });

  it('leaves a contract alone while its presign token may still be open, then settles it', async () => {
    const w = world([
      [record('P', 'PRESIGNED', SETTLED_BEFORE + MINUTE), 'NONE'],
      [record('U', 'PRESIGN_UNKNOWN', SETTLED_BEFORE + MINUTE), 'NONE'],
      [record('S', 'PRESIGNING', SETTLED_BEFORE + MINUTE), 'NONE'],
    ]);
    const report = await w.run();
    assert.equal(report.examined, 0);
    assert.deepEqual(w.gateway.seen.queries, [], 'WeChat Pay is not asked what it cannot answer yet');
    for (const code of ['P', 'U', 'S']) {
      const r = w.store.items.get(code);
      assert.ok(r);
      r.updated_at = iso(SETTLED_BEFORE - 1);
      if (r.expires_at) r.expires_at = iso(SETTLED_BEFORE - 1 + PRESIGN_TTL_MS);
    }
    assert.equal((await w.run()).settled.EXPIRED, 3);
  });

  it('bounds the work by limit and concurrency, and resumes where the last run stopped', async () => {
    const seed: [ContractRecord, WechatState][] = Array.from({ length: 23 }, (_, i) => [
      record(`R${String(i).padStart(2, '0')}`, 'PRESIGNED', SETTLED_BEFORE - (i + 1) * 1000),
      i % 2 ? 'NONE' : 'EFFECTIVE',
    ]);
    const w = world(seed);
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
    assert.equal(w.gateway.seen.queries[0], 'R22', 'oldest first');
  });

  it('stops starting work when told to, and the next run finishes the rest', async () => {
    const seed: [ContractRecord, WechatState][] = Array.from({ length: 10 }, (_, i) => [
      record(`S${i}`, 'PRESIGN_UNKNOWN', SETTLED_BEFORE - (i + 1) * 1000),
      'NONE',
    ]);
    const w = world(seed);
    let checks = 0;
    const first = await w.run({ concurrency: 1, shouldStop: () => ++checks > 4 });
    assert.equal(first.examined, 4);
    assert.equal([...w.store.items.values()].filter((r) => r.state === 'EXPIRED').length, 4);
    const second = await w.run({ concurrency: 2 });
    assert.equal(second.examined, 6);
    assert.equal([...w.store.items.values()].filter((r) => r.state === 'EXPIRED').length, 10);
  });

  it('keeps going past a contract WeChat Pay cannot answer for, reporting it for the next run', async () => {
    const w = world([
      [record('D', 'PRESIGNED', SETTLED_BEFORE - 3000), 'DOWN'],
      [record('E', 'PRESIGNED', SETTLED_BEFORE - 2000), 'EFFECTIVE'],
    ]);
    const errors: string[] = [];
    const report = await w.run({
      onError: (code, error) => errors.push(`${code}: ${(error as Error).name}`),
    });
    assert.deepEqual(report, { examined: 2, settled: { SIGNED: 1 }, unchanged: 0, failed: 1 });
    assert.deepEqual(errors, ['D: WechatPayUnavailable']);
    assert.equal(w.state('D'), 'PRESIGNED');
    w.states.set('D', 'NONE');
    assert.deepEqual((await w.run()).settled, { EXPIRED: 1 });
  });

  it('is not starved by many young unknown outcomes: lapsed contracts behind them still settle', async () => {
    // A WeChat Pay outage leaves far more PRESIGN_UNKNOWN records than one run's limit.
    const young: [ContractRecord, WechatState][] = Array.from({ length: 12 }, (_, i) => [
      record(`Y${i}`, 'PRESIGN_UNKNOWN', NOW - i * 1000),
      'NONE',
    ]);
    const w = world([...young, [record('LAPSED', 'PRESIGNED', SETTLED_BEFORE - 60_000), 'NONE']]);
    for (let n = 0; n < 5 && w.state('LAPSED') === 'PRESIGNED'; n++) await w.run({ limit: 5 });
    assert.equal(w.state('LAPSED'), 'EXPIRED');
    assert.ok(young.every(([r]) => w.state(r.out_contract_code) === 'PRESIGN_UNKNOWN'));
  });
});
