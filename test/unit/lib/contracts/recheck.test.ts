import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONTRACT_STATES, EXPIRY_GRACE_MS, PRESIGN_TTL_MS } from '../../../../lib/contracts/lifecycle';
import { EXPIRED_RECHECK_MS, firstCheckAt, requeue } from '../../../../lib/contracts/recheck';

const T = Date.parse('2026-11-27T06:00:00.000Z');
const at = (ms: number) => new Date(ms).toISOString();
const POLICY = { signedIntervalMs: 3_600_000 * 24 };

describe('recheck: where a record goes in reconcile’s queue', () => {
  it('every state has its first look, or none', () => {
    const first = Object.fromEntries(
      CONTRACT_STATES.map((state) => [state, firstCheckAt({ state, updated_at: at(T) }, POLICY)]),
    );
    const lapse = T + PRESIGN_TTL_MS + EXPIRY_GRACE_MS;
    assert.deepEqual(first, {
      PRESIGNING: lapse,
      PRESIGNED: lapse,
      PRESIGN_FAILED: undefined,
      PRESIGN_UNKNOWN: lapse,
      EXPIRED: T + EXPIRED_RECHECK_MS,
      SIGNED: T + POLICY.signedIntervalMs,
      TERMINATED: undefined,
    });
  });

  it('an open presign counts from its expires_at when it has one', () => {
    const expires = T + 60_000;
    assert.equal(
      firstCheckAt({ state: 'PRESIGNED', updated_at: at(T), expires_at: at(expires) }, POLICY),
      expires + EXPIRY_GRACE_MS,
    );
  });

  it('after a look that changed nothing: SIGNED waits a cycle, EXPIRED leaves the queue, an open one backs off', () => {
    assert.deepEqual(requeue({ state: 'SIGNED', check_attempts: 3 }, 'unchanged', T, POLICY), {
      at: T + POLICY.signedIntervalMs,
      attempts: 0,
    });
    assert.deepEqual(requeue({ state: 'EXPIRED' }, 'unchanged', T, POLICY), { attempts: 0 });
    assert.deepEqual(requeue({ state: 'PRESIGNED' }, 'unchanged', T, POLICY), {
      at: T + 300_000,
      attempts: 1,
    });
  });

  it('after failed looks: doubling from 5 minutes, capped at 6 hours and at the SIGNED cycle', () => {
    assert.deepEqual(requeue({ state: 'SIGNED', check_attempts: 2 }, 'failed', T, POLICY), {
      at: T + 20 * 60_000,
      attempts: 3,
    });
    assert.equal(requeue({ state: 'SIGNED', check_attempts: 30 }, 'failed', T, POLICY).at, T + 6 * 3_600_000);
    const hourly = { signedIntervalMs: 3_600_000 };
    assert.equal(requeue({ state: 'SIGNED', check_attempts: 10 }, 'failed', T, hourly).at, T + 3_600_000);
  });
});
