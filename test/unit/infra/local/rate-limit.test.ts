import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimits } from '../../../../infra/local/rate-limit';

describe('RateLimits', () => {
  const stepped = () => {
    let now = 0;
    return { limits: new RateLimits(() => now), advance: (ms: number) => (now += ms) };
  };
  const takes = (limits: RateLimits, name: string, n: number) =>
    Array.from({ length: n }, () => limits.take(name)).filter(Boolean).length;

  it('allows a burst of one second at the quota, then refuses until tokens refill', () => {
    const { limits, advance } = stepped();
    limits.setAll({ Sign: 5 });
    assert.equal(takes(limits, 'Sign', 8), 5);
    assert.equal(limits.throttled('Sign'), 3);
    advance(200);
    assert.equal(takes(limits, 'Sign', 3), 1, '200 ms at 5/s refills one call');
    advance(10_000);
    assert.equal(takes(limits, 'Sign', 10), 5, 'never more than one second of calls banked');
  });

  it('sustains exactly the quota over time', () => {
    const { limits, advance } = stepped();
    limits.setAll({ Sign: 50 });
    let allowed = 0;
    for (let ms = 0; ms < 10_000; ms += 5) {
      advance(5);
      allowed += takes(limits, 'Sign', 2);
    }
    // 50 banked at the start, then 50 per second for 10 s.
    assert.ok(allowed >= 540 && allowed <= 551, `allowed ${allowed}`);
  });

  it('leaves names without a quota alone, and lifts a quota with null or 0', () => {
    const { limits } = stepped();
    assert.equal(takes(limits, 'GetPublicKey', 1000), 1000);
    limits.setAll({ Sign: 1, Verify: 1 });
    limits.setAll({ Sign: null, Verify: 0 });
    assert.equal(takes(limits, 'Sign', 10), 10);
    assert.equal(takes(limits, 'Verify', 10), 10);
    assert.deepEqual(limits.snapshot(), { quotas: {}, throttled: {} });
  });

  it('refuses a bad entry naming it, and then changes nothing', () => {
    const { limits } = stepped();
    limits.setAll({ Sign: 3 });
    assert.throws(
      () => limits.setAll({ Sign: 100, Verify: 'fast' }),
      /quota for Verify must be a positive number of calls per second, or null to lift it/,
    );
    assert.throws(() => limits.setAll({ Sign: -1 }), /quota for Sign/);
    assert.deepEqual(limits.snapshot().quotas, { Sign: 3 });
  });
});
