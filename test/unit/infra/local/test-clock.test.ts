import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TestClock } from '../../../../infra/local/test-clock';

describe('TestClock', () => {
  it('starts on real time and moves forward by whole seconds', () => {
    const clock = new TestClock();
    assert.ok(Math.abs(clock.now() - Date.now()) < 50);
    assert.equal(clock.offsetSeconds, 0);
    clock.advance(660);
    clock.advance(0);
    clock.advance(86_400);
    assert.equal(clock.offsetSeconds, 87_060);
    assert.ok(Math.abs(clock.now() - (Date.now() + 87_060_000)) < 50);
  });

  it('is a Clock on its own: `now` keeps working when passed around unbound', () => {
    const clock = new TestClock();
    clock.advance(3600);
    const { now } = clock;
    assert.ok(Math.abs(now() - (Date.now() + 3_600_000)) < 50);
  });

  it('never goes back, and refuses fractions and absurd jumps without moving', () => {
    const clock = new TestClock();
    clock.advance(10);
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 10 * 365 * 86_400 + 1]) {
      assert.throws(() => clock.advance(bad), {
        name: 'RangeError',
        message: /whole number of seconds from 0 to 315360000 \(10 years\); the test clock never goes back/,
      });
    }
    assert.equal(clock.offsetSeconds, 10);
  });

  it('tells its listeners after each advance, not after a refused one', () => {
    const clock = new TestClock();
    const seen: number[] = [];
    clock.onAdvance(() => seen.push(clock.offsetSeconds));
    clock.advance(5);
    assert.throws(() => clock.advance(-5));
    clock.advance(7);
    assert.deepEqual(seen, [5, 12]);
  });
});
