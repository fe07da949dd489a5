import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cached } from '../../../../lib/config/cache';

describe('Cached: the one cache policy', () => {
  const setup = () => {
    const clock = { now: 1_000 };
    const cache = new Cached<string>(() => clock.now);
    let loads = 0;
    const load = (value: string) => () => {
      loads += 1;
      return `${value}#${loads}`;
    };
    return { clock, cache, load };
  };

  it('reuses a value under its key for less than maxAge on the injected clock, then loads again', async () => {
    const { clock, cache, load } = setup();
    assert.equal(await cache.get('k', 60_000, load('a')), 'a#1');
    clock.now += 59_999;
    assert.equal(await cache.get('k', 60_000, load('a')), 'a#1');
    clock.now += 1;
    assert.equal(await cache.get('k', 60_000, load('a')), 'a#2');
  });

  it('another key replaces the value, whatever its age; Infinity keeps it while the key holds', async () => {
    const { clock, cache, load } = setup();
    assert.equal(await cache.get('k1', Number.POSITIVE_INFINITY, load('a')), 'a#1');
    clock.now += 365 * 24 * 3600_000;
    assert.equal(await cache.get('k1', Number.POSITIVE_INFINITY, load('a')), 'a#1');
    assert.equal(await cache.get('k2', Number.POSITIVE_INFINITY, load('b')), 'b#2');
    assert.equal(await cache.get('k1', Number.POSITIVE_INFINITY, load('a')), 'a#3');
  });

  it('concurrent callers share one load', async () => {
    const { cache } = setup();
    let release: (value: string) => void = () => {};
    let loads = 0;
    const slow = () => {
      loads += 1;
      return new Promise<string>((resolve) => {
        release = resolve;
      });
    };
    const both = Promise.all([cache.get('k', 1000, slow), cache.get('k', 1000, slow)]);
    release('v');
    assert.deepEqual(await both, ['v', 'v']);
    assert.equal(loads, 1);
  });

  it('a failed load, thrown or rejected, is not kept: the next call loads again', async () => {
    const { cache, load } = setup();
    await assert.rejects(
      cache.get('k', 60_000, () => {
        throw new Error('SSM unreachable');
      }),
      /SSM unreachable/,
    );
    await assert.rejects(
      cache.get('k', 60_000, () => Promise.reject(new Error('throttled'))),
      /throttled/,
    );
    assert.equal(await cache.get('k', 60_000, load('a')), 'a#1');
  });

  it('set replaces the value at once and starts its age again', async () => {
    const { clock, cache, load } = setup();
    await cache.get('k', 60_000, load('a'));
    clock.now += 50_000;
    cache.set('k', 'fresh');
    clock.now += 50_000;
    assert.equal(await cache.get('k', 60_000, load('a')), 'fresh');
    clock.now += 10_000;
    assert.equal(await cache.get('k', 60_000, load('a')), 'a#2');
  });
});
