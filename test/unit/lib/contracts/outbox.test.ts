import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RECORD_MS } from '../../../../lib/contracts/budget';
import {
  deliver,
  KEPT_SWEEP_AFTER_MS,
  keepUndelivered,
  listKept,
  PUBLISH_MS,
  STORED_SWEEP_AFTER_MS,
  storedEntry,
  sweep,
} from '../../../../lib/contracts/outbox';
import type { ServiceEvent } from '../../../../lib/repayments/events';
import { MemoryOutbox } from '../../../support/contracts/memory-outbox';
import { MemoryPublisher } from '../../../support/contracts/memory-publisher';

const T = Date.parse('2026-11-27T06:00:00.000Z');
const MINUTE = 60_000;

const signed = (code: string, version: number): ServiceEvent => ({
  type: 'ContractSigned',
  detail: {
    event_id: `${code}:${version}`,
    out_contract_code: code,
    state: 'SIGNED',
    previous_state: 'PRESIGNED',
    occurred_at: new Date(T).toISOString(),
  },
});

function world() {
  const outbox = new MemoryOutbox();
  const publisher = new MemoryPublisher();
  const clock = { now: T };
  return { outbox, publisher, clock, deps: { outbox, publisher, clock: () => clock.now } };
}

describe('the outbox', () => {
  it('keeps what a publish could not deliver, once per event, for the sweep after the stream’s own retries', async () => {
    const w = world();
    await keepUndelivered(w.deps, [signed('C1', 4)], new Error('ThrottlingException: Rate exceeded'));
    w.clock.now += 1000;
    await keepUndelivered(w.deps, [signed('C1', 4)], new Error('ThrottlingException: again'));
    const [entry, ...others] = [...w.outbox.entries.values()];
    assert.equal(others.length, 0);
    assert.equal(entry?.attempts, 2);
    assert.equal(entry?.created_at, new Date(T).toISOString(), 'the first failure');
    assert.equal(entry?.next_attempt_at, new Date(T + 1000 + KEPT_SWEEP_AFTER_MS).toISOString());
    assert.match(String(entry?.last_error), /Error: ThrottlingException: again/);
  });

  it('a sweep publishes what is due, forgets it, and leaves the rest for later', async () => {
    const w = world();
    await keepUndelivered(w.deps, [signed('C1', 4)], new Error('down'));
    await w.outbox.keep([signed('C2', 4)], 'down', T, T + 60 * MINUTE);
    assert.deepEqual(await sweep(w.deps, { limit: 10 }), { published: 0, failed: 0, pending: [] });
    w.clock.now = T + KEPT_SWEEP_AFTER_MS;
    const report = await sweep(w.deps, { limit: 10 });
    assert.deepEqual(report, { published: 1, failed: 0, pending: [] });
    assert.deepEqual(
      w.publisher.events.map((e) => e.detail.event_id),
      ['C1:4'],
    );
    assert.deepEqual([...w.outbox.entries.keys()], ['C2:4']);
  });

  it('a replay publishes every entry at once, due or not', async () => {
    const w = world();
    await w.outbox.keep([signed('C1', 4), signed('C2', 2)], 'down', T, T + 60 * MINUTE);
    assert.equal((await listKept(w.deps, 10)).length, 2);
    assert.equal((await sweep(w.deps, { limit: 10, all: true })).published, 2);
    assert.equal(w.outbox.entries.size, 0);
  });

  it('what still fails stays, with a doubling backoff, and is reported pending', async () => {
    const w = world();
    await w.outbox.keep([signed('C1', 4)], 'down', T, T);
    w.publisher.failNext(10);
    const report = await sweep(w.deps, { limit: 10 });
    assert.deepEqual(report, { published: 0, failed: 1, pending: ['C1:4'] });
    const kept = w.outbox.entries.get('C1:4');
    assert.equal(kept?.attempts, 2);
    assert.equal(kept?.next_attempt_at, new Date(T + 10 * MINUTE).toISOString(), '5 min × 2^1');
    assert.match(String(kept?.last_error), /MemoryPublisher told to fail/);
  });

  it('with under PUBLISH_MS of the function’s time left, starts no publish: the rest stays pending, untried', async () => {
    const w = world();
    await w.outbox.keep([signed('C1', 4), signed('C2', 2)], 'down', T, T);
    const report = await sweep(w.deps, { limit: 10, budget: { remainingMs: () => PUBLISH_MS - 1 } });
    assert.deepEqual(report, { published: 0, failed: 0, pending: ['C1:4', 'C2:2'] });
    assert.equal(w.publisher.attempts.length, 0);
  });

  it('a publish that outlasts the function’s time counts as failed and is postponed, inside that time', async () => {
    const w = world();
    await w.outbox.keep([signed('C1', 4)], 'down', T, T);
    const hanging = { ...w.deps, publisher: { publish: () => new Promise<void>(() => {}) } };
    const deadline = Date.now() + PUBLISH_MS + 100;
    const started = Date.now();
    const report = await sweep(hanging, {
      limit: 10,
      all: true,
      budget: { remainingMs: () => deadline - Date.now() },
    });
    const took = Date.now() - started;
    assert.ok(took < PUBLISH_MS + 100 - RECORD_MS + 300, `swept in ${took} ms, keeping time to postpone`);
    assert.deepEqual(report, { published: 0, failed: 1, pending: ['C1:4'] });
    assert.match(String(w.outbox.entries.get('C1:4')?.last_error), /PutEvents got no answer in the time/);
  });

  it('a stored entry is delivered at once, or waits for the sweep', async () => {
    const w = world();
    const entry = storedEntry(signed('C3', 1), T);
    assert.equal(entry.next_attempt_at, new Date(T + STORED_SWEEP_AFTER_MS).toISOString());
    w.outbox.entries.set('C3:1', entry);
    w.publisher.failNext(1);
    assert.equal(await deliver(w.deps, entry), false);
    assert.equal(w.outbox.entries.get('C3:1')?.attempts, 1);
    assert.equal(await deliver(w.deps, entry), true);
    assert.equal(w.outbox.entries.size, 0);
    assert.deepEqual(
      w.publisher.events.map((e) => e.detail.event_id),
      ['C3:1'],
    );
  });
});
