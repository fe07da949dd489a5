import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ScheduleStatus } from '../../../../infra/local/schedules';
import { startTestStack, type TestStack } from '../../../support/local/stack';

// serverless.yml's schedules running in the local stack: the real reconcile and certificates functions on their
// rate expressions, compressed, on demand, and after the test clock jumps past a slot.

async function schedules(stack: TestStack): Promise<Map<string, ScheduleStatus>> {
  const res = await fetch(`${stack.api.url}/local/schedules`);
  assert.equal(res.status, 200);
  return new Map(((await res.json()) as ScheduleStatus[]).map((s) => [s.function, s]));
}

async function runNow(stack: TestStack, fn: string) {
  const res = await fetch(`${stack.api.url}/local/schedules/${fn}/run`, { method: 'POST' });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms`);
    await sleep(100);
  }
}

describe('schedules, compressed (600× faster than the test clock)', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({ scheduleSpeedup: 600 });
  });
  after(async () => {
    await stack?.close();
  });

  it('runs reconcile on its rate(5 minutes), every half second, and keeps certificates to rate(6 hours)', async () => {
    const reconcile = await until('two reconcile runs', 15_000, async () => {
      const status = (await schedules(stack)).get('reconcile');
      return (status?.runs ?? 0) >= 2 ? status : undefined;
    });
    assert.equal(reconcile.expression, 'rate(5 minutes)');
    assert.equal(reconcile.last?.ok, true, reconcile.last?.error);
    const certificates = (await schedules(stack)).get('certificates');
    assert.equal(certificates?.runs, 0);
    // Six hours at 600× are 36 s.
    const next = certificates?.next_in_ms ?? 0;
    assert.ok(next > 20_000 && next <= 36_000, `certificates next in ${next} ms`);
  });
});

describe('schedules on demand and on the test clock (real speed)', () => {
  let stack: TestStack;
  const certificateDownloads = () =>
    stack.simulator?.requests().filter((r) => r.url.startsWith('/v3/certificates')).length ?? 0;

  before(async () => {
    stack = await startTestStack({ scheduleSpeedup: 1 });
    // Certificate mode, so that the certificates function does something WeChat Pay sees.
    process.env.WECHATPAY_PLATFORM_CERTIFICATES = 'enabled';
    stack.simulator?.setMode('certificate');
  });
  after(async () => {
    await stack?.close();
  });

  it('runs a function with what its schedule sends: the constant input, or the scheduled event on the test clock', async () => {
    const reconcile = await runNow(stack, 'reconcile');
    assert.equal(reconcile.status, 200, JSON.stringify(reconcile.body));
    assert.deepEqual(reconcile.body.event, { limit: 200 });
    assert.deepEqual(Object.keys(reconcile.body.result as object).sort(), [
      'examined',
      'failed',
      'repayments',
      'settled',
      'unchanged',
    ]);

    const moved = await fetch(`${stack.api.url}/local/clock`, { method: 'POST', body: '{"advance_s":3600}' });
    assert.equal(moved.status, 200);
    const certificates = await runNow(stack, 'certificates');
    assert.equal(certificates.status, 200, JSON.stringify(certificates.body));
    const event = certificates.body.event as Record<string, unknown>;
    assert.equal(event['detail-type'], 'Scheduled Event');
    assert.equal(event.source, 'aws.events');
    assert.ok(
      Math.abs(Date.parse(String(event.time)) - (Date.now() + 3_600_000)) < 5_000,
      String(event.time),
    );
    assert.equal((certificates.body.result as { enabled: boolean }).enabled, true);
    assert.equal(certificateDownloads(), 1);
  });

  it('answers 404 naming the scheduled functions for one without a schedule', async () => {
    const { status, body } = await runNow(stack, 'presign');
    assert.equal(status, 404);
    assert.equal(body.code, 'SCHEDULE_NOT_FOUND');
    assert.match(String(body.message), /scheduled functions: reconcile, repaymentDay, outbox, certificates/);
  });

  it('runs a schedule as soon as the test clock is advanced past its slot', async () => {
    const before = await schedules(stack);
    assert.ok((before.get('certificates')?.next_in_ms ?? 0) > 3_600_000, 'at real speed, hours away');
    const downloads = certificateDownloads();
    const moved = await fetch(`${stack.api.url}/local/clock`, {
      method: 'POST',
      body: '{"advance_s":21600}',
    });
    assert.equal(moved.status, 200);
    const ran = await until('the certificates run', 10_000, async () => {
      const status = (await schedules(stack)).get('certificates');
      return (status?.runs ?? 0) > (before.get('certificates')?.runs ?? 0) ? status : undefined;
    });
    assert.equal(ran.last?.ok, true, ran.last?.error);
    assert.equal(certificateDownloads(), downloads + 1, 'the scheduled run downloaded the certificates');
  });
});
