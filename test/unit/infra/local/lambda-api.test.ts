import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalFunction, LocalFunctions } from '../../../../infra/local/functions';
import { type LocalLambdaApi, startLambdaApi } from '../../../../infra/local/lambda-api';

// The Invoke API's wire answers over stand-in functions (the real functions, through @aws-sdk/client-lambda,
// are in the integration test): timeouts, odd throws and malformed requests are easiest to make here.

const fn = (key: string, timeoutMs = 5_000): LocalFunction => ({
  key,
  handler: `functions/${key}.handler`,
  timeoutMs,
  routes: [],
  schedules: [],
});

describe('the local Lambda Invoke API (wire format)', () => {
  let api: LocalLambdaApi;
  const calls: { key: string; event: unknown; requestId?: string }[] = [];
  const list = [fn('echo'), fn('slow', 150), fn('throwsString'), fn('nothing')];
  const functions: LocalFunctions = {
    service: 'svc',
    list,
    find: (name) => list.find((f) => f.key === name || name === `svc-dev-${f.key}`),
    invoke: async (f, event, requestId) => {
      calls.push({ key: f.key, event, ...(requestId ? { requestId } : {}) });
      if (f.key === 'slow') await sleep(2_000);
      if (f.key === 'throwsString') throw 'plain words';
      if (f.key === 'nothing') return undefined;
      return { echoed: event };
    },
    clock: Date.now,
  };
  const invoke = (name: string, body?: string, headers: Record<string, string> = {}, query = '') =>
    fetch(`${api.url}/2015-03-31/functions/${encodeURIComponent(name)}/invocations${query}`, {
      method: 'POST',
      headers,
      ...(body === undefined ? {} : { body }),
    });

  before(async () => {
    api = await startLambdaApi({ functions, region: 'ap-southeast-1' });
  });
  after(() => api.close());

  it('answers a RequestResponse with the result, the version and a request id the function saw', async () => {
    const res = await invoke('echo', '{"a":1}');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-amz-executed-version'), '$LATEST');
    assert.equal(res.headers.get('x-amz-function-error'), null);
    assert.deepEqual(await res.json(), { echoed: { a: 1 } });
    assert.equal(calls.at(-1)?.requestId, res.headers.get('x-amzn-requestid'));
  });

  it('passes {} for an empty payload and answers null for a function that returns nothing', async () => {
    assert.deepEqual(await (await invoke('echo')).json(), { echoed: {} });
    assert.equal(await (await invoke('nothing', '{}')).text(), 'null');
  });

  it('resolves full ARNs, partial ARNs, deployed names and the $LATEST qualifier', async () => {
    for (const name of [
      'arn:aws:lambda:ap-southeast-1:123456789012:function:echo',
      'arn:aws:lambda:ap-southeast-1:123456789012:function:svc-dev-echo:$LATEST',
      '123456789012:function:echo',
      'svc-dev-echo',
      'echo:$LATEST',
    ]) {
      const res = await invoke(name, '{"n":1}');
      assert.equal(res.status, 200, name);
      assert.deepEqual(await res.json(), { echoed: { n: 1 } }, name);
    }
    assert.equal((await invoke('echo', '{}', {}, '?Qualifier=%24LATEST')).status, 200);
  });

  it('answers 404 ResourceNotFoundException for an unknown function or a version it does not have', async () => {
    for (const [name, query] of [
      ['nope', ''],
      ['echo:7', ''],
      ['echo', '?Qualifier=live'],
    ] as const) {
      const res = await invoke(name, '{}', {}, query);
      assert.equal(res.status, 404, name);
      assert.equal(res.headers.get('x-amzn-errortype'), 'ResourceNotFoundException');
      const body = (await res.json()) as { Type: string; message: string };
      assert.equal(body.Type, 'User');
      assert.match(body.message, /^Function not found: arn:aws:lambda:ap-southeast-1:000000000000:function:/);
    }
  });

  it('answers an error the function threw that is not an Error as the Node.js runtime does', async () => {
    const res = await invoke('throwsString', '{}');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-amz-function-error'), 'Unhandled');
    assert.deepEqual(await res.json(), { errorType: 'string', errorMessage: 'plain words' });
  });

  it('answers Lambda timeout error once the function timeout has passed', async () => {
    const started = Date.now();
    const res = await invoke('slow', '{}');
    const took = Date.now() - started;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-amz-function-error'), 'Unhandled');
    const body = (await res.json()) as { errorType: string; errorMessage: string };
    assert.equal(body.errorType, 'Sandbox.Timedout');
    assert.match(body.errorMessage, /^RequestId: [0-9a-f-]{36} Error: Task timed out after 0\.15 seconds$/);
    assert.ok(took >= 140 && took < 1_500, `${took} ms`);
  });

  it('answers Event with 202 at once and runs the function behind it; DryRun with 204 and no run', async () => {
    const before = calls.length;
    const event = await invoke('echo', '{"async":true}', { 'X-Amz-Invocation-Type': 'Event' });
    assert.equal(event.status, 202);
    assert.equal(await event.text(), '');
    const dry = await invoke('echo', '{"dry":true}', { 'X-Amz-Invocation-Type': 'DryRun' });
    assert.equal(dry.status, 204);
    for (let i = 0; i < 100 && calls.length === before; i++) await sleep(10);
    assert.deepEqual(
      calls.slice(before).map((c) => c.event),
      [{ async: true }],
    );
  });

  it('refuses a payload that is not JSON, an unknown invocation type and other operations, as Lambda does', async () => {
    const bad = await invoke('echo', '{"real_name":张三丰}');
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('x-amzn-errortype'), 'InvalidRequestContentException');
    const { message } = (await bad.json()) as { message: string };
    assert.match(message, /^Could not parse request body into json: /);
    assert.ok(!message.includes('张三丰'), `the answer quotes the payload: ${message}`);
    const type = await invoke('echo', '{}', { 'X-Amz-Invocation-Type': 'Later' });
    assert.equal(type.status, 400);
    assert.equal(type.headers.get('x-amzn-errortype'), 'InvalidParameterValueException');
    const list = await fetch(`${api.url}/2015-03-31/functions/`);
    assert.equal(list.status, 404);
    assert.equal(list.headers.get('x-amzn-errortype'), 'UnknownOperationException');
    const badEscape = await fetch(`${api.url}/2015-03-31/functions/%E0%A4%A/invocations`, { method: 'POST' });
    assert.equal(badEscape.status, 400);
  });
});
