import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { h5Body } from '../../../support/contracts/fixtures';
import { startTestStack, type TestStack } from '../../../support/local/stack';

// The test clock of the local stack (GET/POST /local/clock on the API port), against the real simulator: an
// advance lapses WeChat Pay's presign tokens as real time would, and requests keep passing its signature checks.

interface Reading {
  now: string;
  offset_s: number;
}

async function call(stack: TestStack, method: 'GET' | 'POST', body?: string) {
  const res = await fetch(`${stack.api.url}/local/clock`, {
    method,
    ...(body === undefined ? {} : { body }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const near = (iso: unknown, ms: number) => Math.abs(Date.parse(String(iso)) - ms) < 3_000;

describe('the test clock (/local/clock)', () => {
  let stack: TestStack;

  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.close();
  });

  it('reads real time until it is advanced', async () => {
    const { status, body } = await call(stack, 'GET');
    assert.equal(status, 200);
    assert.equal(body.offset_s, 0);
    assert.match(String(body.now), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(near(body.now, Date.now()), String(body.now));
  });

  it('moves the service and the simulator together: a presign token lapses, and new presigns still pass', async () => {
    const first = await stack.request('POST', '/contracts/h5-presign', h5Body());
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const signingPage = String(first.body.redirect_url);
    assert.equal((await fetch(signingPage)).status, 200, 'the token is fresh');

    // WeChat Pay's presign token lives 10 minutes.
    const moved = await call(stack, 'POST', '{"advance_s":601}');
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    const reading = moved.body as unknown as Reading;
    assert.equal(reading.offset_s, 601);
    assert.ok(near(reading.now, Date.now() + 601_000), reading.now);
    assert.deepEqual((await call(stack, 'GET')).body.offset_s, 601);
    assert.equal(stack.clock.offsetSeconds, 601);

    assert.equal(
      (await fetch(signingPage)).status,
      410,
      "the simulator's signing page says the token lapsed",
    );
    const second = await stack.request('POST', '/contracts/h5-presign', h5Body());
    assert.equal(
      second.status,
      201,
      `signatures still agree after the advance: ${JSON.stringify(second.body)}`,
    );
    assert.equal(
      (await fetch(String(second.body.redirect_url))).status,
      200,
      'a token issued after it is fresh',
    );
  });

  it('refuses to go back, fractions and malformed bodies with 400 naming advance_s, and does not move', async () => {
    const before = stack.clock.offsetSeconds;
    for (const body of [
      '{"advance_s":-60}',
      '{"advance_s":1.5}',
      '{"advance_s":"60"}',
      '{"advance_s":null}',
      '{"advance_s":315360001}',
    ]) {
      const { status, body: answer } = await call(stack, 'POST', body);
      assert.equal(status, 400, body);
      assert.equal(answer.code, 'VALIDATION_FAILED');
      assert.deepEqual(
        (answer.errors as { field: string }[]).map((e) => e.field),
        ['/advance_s'],
        body,
      );
      assert.match(String(answer.message), /never goes back/, body);
    }
    for (const body of ['', 'not json', '{}', '[]', '{"seconds":60}']) {
      const { status, body: answer } = await call(stack, 'POST', body);
      assert.equal(status, 400, body);
      assert.equal(answer.code, 'VALIDATION_FAILED', body);
      assert.match(String(answer.message), /\{"advance_s": <seconds>\}/, body);
    }
    assert.equal(stack.clock.offsetSeconds, before);
    await assert.rejects(stack.advanceClock(-1), RangeError, 'the same rule in process');
    assert.equal(stack.clock.offsetSeconds, before);
  });

  it('moves the same way in process (LocalStack.advanceClock), simulator included', async () => {
    const presigned = await stack.request('POST', '/contracts/h5-presign', h5Body());
    assert.equal(presigned.status, 201, JSON.stringify(presigned.body));
    const before = stack.clock.offsetSeconds;
    await stack.advanceClock(601);
    assert.equal(stack.clock.offsetSeconds, before + 601);
    assert.equal((await call(stack, 'GET')).body.offset_s, before + 601);
    assert.equal((await fetch(String(presigned.body.redirect_url))).status, 410);
  });
});

describe('the test clock with another WeChat Pay peer', () => {
  let stack: TestStack;

  before(async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    stack = await startTestStack({
      env: {
        // Nothing listens there: no request is made, the peer only has to be configured.
        WECHATPAY_BASE_URL: 'http://127.0.0.1:9',
        WECHATPAY_PUBLIC_KEY_ID: 'PUB_KEY_ID_0000000000000000000000000000000000',
        WECHATPAY_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
    });
  });
  after(async () => {
    await stack?.close();
  });

  it('refuses to advance with 409, since nobody here can move that peer clock', async () => {
    const { status, body } = await call(stack, 'POST', '{"advance_s":60}');
    assert.equal(status, 409);
    assert.equal(body.code, 'CLOCK_NOT_MOVABLE');
    assert.match(String(body.message), /WECHATPAY_BASE_URL/);
    await assert.rejects(stack.advanceClock(60), { name: 'ClockNotMovable' });
    assert.equal(stack.clock.offsetSeconds, 0);
    assert.equal((await call(stack, 'GET')).body.offset_s, 0);
  });
});
