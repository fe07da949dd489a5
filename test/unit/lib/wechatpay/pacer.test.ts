import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacedSigner, Pacer } from '../../../../lib/wechatpay/pacer';
import type { Signer } from '../../../../lib/wechatpay/signer';

/** A clock that only moves when the pacer sleeps, so the schedule it asks for is exact. */
function virtualTime() {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('Pacer', () => {
  it('spaces calls 1 / rate apart, starting at the ceiling', async () => {
    const t = virtualTime();
    const pacer = new Pacer({ ceilingRps: 50, now: t.now, sleep: t.sleep });
    for (let i = 0; i < 100; i++) await pacer.slot();
    // 100 calls at 50 per second: the 100th starts 99 intervals of 20 ms after the first.
    assert.equal(Math.round(t.now()), 1980);
  });

  it('halves on a throttle, once per cooldown, and never below the floor', () => {
    const t = virtualTime();
    const pacer = new Pacer({ ceilingRps: 100, floorRps: 10, now: t.now, sleep: t.sleep });
    pacer.throttled();
    pacer.throttled();
    assert.equal(pacer.rate, 50, 'a burst of refusals inside the cooldown is one signal');
    for (let i = 0; i < 5; i++) {
      t.advance(1000);
      pacer.throttled();
    }
    assert.equal(pacer.rate, 10);
  });

  it('climbs back additively while calls go through, up to the ceiling', () => {
    const t = virtualTime();
    const pacer = new Pacer({ ceilingRps: 100, increaseRps: 10, now: t.now, sleep: t.sleep });
    pacer.throttled();
    assert.equal(pacer.rate, 50);
    // One second of calls at ~50/s adds ~10 calls per second.
    for (let i = 0; i < 50; i++) pacer.succeeded();
    assert.ok(pacer.rate > 59 && pacer.rate < 60.5, String(pacer.rate));
    for (let i = 0; i < 10_000; i++) pacer.succeeded();
    assert.equal(pacer.rate, 100);
  });

  it('refuses a budget that is not a positive rate, naming it', () => {
    assert.throws(() => new Pacer({ ceilingRps: 0 }), /ceilingRps 0 must be a positive number/);
  });
});

describe('PacedSigner', () => {
  it('waits for its slot before each signature and slows on the signer throttle only', async () => {
    const t = virtualTime();
    const pacer = new Pacer({ ceilingRps: 10, now: t.now, sleep: t.sleep });
    const answers = ['ok', 'throttle', 'broken', 'ok'];
    const signer: Signer = {
      sign: async () => {
        const answer = answers.shift();
        if (answer === 'throttle') throw Object.assign(new Error('rate'), { name: 'ThrottlingException' });
        if (answer === 'broken') throw new Error('KMS unavailable');
        return `signed at ${t.now()}`;
      },
    };
    const paced = new PacedSigner(signer, pacer, (e) => (e as Error).name === 'ThrottlingException');
    assert.equal(await paced.sign(Buffer.from('a')), 'signed at 0');
    await assert.rejects(paced.sign(Buffer.from('b')), { name: 'ThrottlingException' });
    assert.equal(pacer.rate, 5);
    t.advance(5000);
    await assert.rejects(paced.sign(Buffer.from('c')), /KMS unavailable/);
    assert.equal(pacer.rate, 5, 'an outage is not a rate signal');
    assert.match(await paced.sign(Buffer.from('d')), /^signed at /);
  });
});
