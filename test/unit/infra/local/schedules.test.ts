import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalFunction, LocalFunctions, ScheduleEvent } from '../../../../infra/local/functions';
import { parseScheduleExpression } from '../../../../infra/local/schedule-expression';
import { type LocalSchedules, startSchedules } from '../../../../infra/local/schedules';
import { TestClock } from '../../../../infra/local/test-clock';

// The schedules over stand-in functions that record what they were invoked with: only the timing and the
// events are under test here (the real functions run on their schedules in the integration tests).

interface Invocation {
  key: string;
  event: Record<string, unknown>;
  realAt: number;
}

function functionsWith(
  schedules: Record<string, Partial<ScheduleEvent> & { rate: string }>,
  fail?: Error,
): LocalFunctions & { invocations: Invocation[] } {
  const invocations: Invocation[] = [];
  const list: LocalFunction[] = Object.entries(schedules).map(([key, { rate, ...rest }]) => ({
    key,
    handler: `functions/${key}.handler`,
    timeoutMs: 10_000,
    routes: [],
    schedules: [{ expression: parseScheduleExpression(rate), enabled: true, ...rest }],
  }));
  return {
    service: 'svc',
    list,
    find: (name) => list.find((fn) => fn.key === name),
    invoke: async (fn, event) => {
      invocations.push({ key: fn.key, event: event as Record<string, unknown>, realAt: Date.now() });
      if (fail) throw fail;
      return { ran: fn.key };
    },
    clock: Date.now,
    invocations,
  };
}

async function until(what: string, ms: number, done: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms`);
    await sleep(10);
  }
}

describe('local schedules', () => {
  const running: LocalSchedules[] = [];
  const start = (options: Parameters<typeof startSchedules>[0]) => {
    const s = startSchedules(options);
    running.push(s);
    return s;
  };
  afterEach(() => {
    for (const s of running.splice(0)) s.close();
  });

  it('runs a rate compressed by the speed-up, with the scheduled event EventBridge sends, timed on the test clock', async () => {
    const clock = new TestClock();
    clock.advance(86_400);
    const functions = functionsWith({ tick: { rate: 'rate(1 minute)' } });
    // One minute of schedule in 100 ms, counted from when the timers were armed.
    const began = Date.now();
    const schedules = start({ functions, clock, speedup: 600, region: 'ap-southeast-1' });
    await until('three runs', 5_000, () => functions.invocations.length >= 3);
    const [first, second] = functions.invocations as [Invocation, Invocation];
    assert.ok(
      first.realAt - began >= 80,
      `the first run waits one compressed period (${first.realAt - began} ms)`,
    );
    // Runs are anchored to the period, not to the run before: a late first run (a busy machine) does not pull
    // the second one earlier than its own slot.
    assert.ok(
      second.realAt - began >= 180,
      `the second run waits two compressed periods (${second.realAt - began} ms)`,
    );
    const event = first.event;
    assert.deepEqual(Object.keys(event).sort(), [
      'account',
      'detail',
      'detail-type',
      'id',
      'region',
      'resources',
      'source',
      'time',
      'version',
    ]);
    assert.equal(event.version, '0');
    assert.equal(event['detail-type'], 'Scheduled Event');
    assert.equal(event.source, 'aws.events');
    assert.equal(event.region, 'ap-southeast-1');
    assert.deepEqual(event.detail, {});
    assert.match(String(event.id), /^[0-9a-f-]{36}$/);
    assert.notEqual(event.id, second.event.id);
    assert.match(
      String((event.resources as string[])[0]),
      /^arn:aws:events:ap-southeast-1:\d{12}:rule\/svc-/,
    );
    // On the test clock (a day ahead), whole seconds, never ahead of that clock.
    assert.match(String(event.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const time = Date.parse(String(event.time));
    assert.ok(time <= clock.now() && time > first.realAt + 86_400_000 - 2_000, String(event.time));
    const [status] = schedules.list();
    assert.equal(status?.function, 'tick');
    assert.ok((status?.runs ?? 0) >= 3);
    assert.deepEqual(status?.last?.ok, true);
  });

  it('runs once, at once, when the test clock jumps past several slots', async () => {
    const clock = new TestClock();
    const functions = functionsWith({ hourly: { rate: 'rate(1 hour)' } });
    const schedules = start({ functions, clock, speedup: 1, region: 'ap-southeast-1' });
    assert.ok((schedules.list()[0]?.next_in_ms ?? 0) > 3_500_000, 'real time: the first run is an hour away');
    await sleep(50);
    assert.equal(functions.invocations.length, 0);
    clock.advance(3 * 3600 + 60);
    await until('the run after the jump', 2_000, () => functions.invocations.length > 0);
    await sleep(200);
    assert.equal(functions.invocations.length, 1, 'three missed slots, one run');
    const time = Date.parse(String(functions.invocations[0]?.event.time));
    assert.ok(Math.abs(time - clock.now()) < 2_000, 'the event carries the test clock');
    const next = schedules.list()[0]?.next_in_ms ?? 0;
    assert.ok(next > 0 && next <= 3_600_000, `the next run is within the hour (${next} ms)`);
  });

  it('sends the constant input instead of the scheduled event when serverless.yml gives one', async () => {
    const clock = new TestClock();
    const functions = functionsWith({ sweep: { rate: 'rate(1 minute)', input: { limit: 200 } } });
    start({ functions, clock, speedup: 600, region: 'ap-southeast-1' });
    await until('a run', 5_000, () => functions.invocations.length > 0);
    assert.deepEqual(functions.invocations[0]?.event, { limit: 200 });
  });

  it('with speed-up 0 or enabled: false, runs only on demand', async () => {
    const clock = new TestClock();
    const off = functionsWith({ a: { rate: 'rate(1 minute)' } });
    const disabled = functionsWith({ b: { rate: 'rate(1 minute)', enabled: false } });
    const offSchedules = start({ functions: off, clock, speedup: 0, region: 'r' });
    const disabledSchedules = start({ functions: disabled, clock, speedup: 600, region: 'r' });
    clock.advance(3600);
    await sleep(300);
    assert.equal(off.invocations.length + disabled.invocations.length, 0);
    assert.equal(offSchedules.list()[0]?.next_in_ms, null);
    assert.equal(disabledSchedules.list()[0]?.enabled, false);

    const ran = await offSchedules.run('a');
    assert.ok(ran);
    assert.equal(ran.function, 'a');
    assert.deepEqual(ran.result, { ran: 'a' });
    assert.equal((ran.event as Record<string, unknown>)['detail-type'], 'Scheduled Event');
    assert.equal(off.invocations.length, 1);
    assert.equal(offSchedules.list()[0]?.runs, 1);
    assert.equal(offSchedules.run('nope'), undefined);
  });

  it('reports a failed run with the error name, as Lambda would', async () => {
    const error = Object.assign(new Error('WeChat Pay did not answer'), { name: 'WechatPayUnavailable' });
    const functions = functionsWith({ a: { rate: 'rate(1 minute)' } }, error);
    const schedules = start({ functions, clock: new TestClock(), speedup: 0, region: 'r' });
    const ran = await schedules.run('a');
    assert.deepEqual(ran?.error, {
      errorType: 'WechatPayUnavailable',
      errorMessage: 'WeChat Pay did not answer',
    });
    assert.deepEqual(schedules.list()[0]?.last?.ok, false);
    assert.equal(schedules.list()[0]?.last?.error, 'WechatPayUnavailable: WeChat Pay did not answer');
  });

  it('stops when closed, also when the clock moves afterwards', async () => {
    const clock = new TestClock();
    const functions = functionsWith({ a: { rate: 'rate(1 hour)' } });
    start({ functions, clock, speedup: 1, region: 'r' }).close();
    clock.advance(7200);
    await sleep(200);
    assert.equal(functions.invocations.length, 0);
  });
});
