import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { makeHandler } from '../../../functions/contracts';
import { contractDeps } from '../../../lib/config/deps';
import { createRuntime } from '../../../lib/config/runtime';
import { UNAVAILABLE_MESSAGES } from '../../../lib/http/errors';
import { h5Body, PERSON, uniqueCode } from '../../support/contracts/fixtures';
import { startTestStack, type TestStack } from '../../support/local/stack';
import { captureOutput } from '../../support/observability/output-capture';
import {
  callback,
  lambdaContext,
  NOTIFY_PATH,
  newWechatPayKeys,
  post,
  resend,
  SIGN_CONTRACT,
  type WechatPayKeys,
} from '../../support/wechatpay/callbacks';

// GET /contracts/{code}[?sync=true] and POST /contracts/{code}/terminate through the local gateway, against
// the simulator, DynamoDB Local and the KMS stand-in. This file holds WeChat Pay's private key, so it can send
// the late and repeated callbacks WeChat Pay would.

describe('query with sync and terminate', () => {
  let stack: TestStack;
  const keys: WechatPayKeys = newWechatPayKeys();

  const simulator = () => {
    assert.ok(stack.simulator, 'the test stack runs the simulator');
    return stack.simulator;
  };

  async function presign(): Promise<{ code: string; token: string }> {
    const body = h5Body();
    const res = await stack.request('POST', '/contracts/h5-presign', body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const token = new URL(String(res.body.redirect_url)).searchParams.get('token');
    assert.ok(token);
    return { code: String(body.out_contract_code), token };
  }

  async function dropCallbacks(count: number): Promise<void> {
    const res = await fetch(`${simulator().url}/sandbox/drop-callbacks`, {
      method: 'POST',
      body: JSON.stringify({ count }),
    });
    assert.equal(res.status, 200, await res.text());
  }

  /** Presigned and signed, with the SIGN_CONTRACT callback delivered. */
  async function signed(): Promise<string> {
    const { code, token } = await presign();
    await simulator().agree(token);
    assert.equal((await stack.request('GET', `/contracts/${code}`)).body.state, 'SIGNED');
    return code;
  }

  const terminate = (code: string, body: unknown = { contract_termination_remark: '客户申请解约' }) =>
    stack.request('POST', `/contracts/${code}/terminate`, body);

  async function eventsOf(code: string, type: string) {
    await stack.drainEvents();
    return stack.events.filter((e) => e.detail.out_contract_code === code && e.type === type);
  }

  before(async () => {
    stack = await startTestStack({
      simulator: { publicKey: { id: keys.serial, privateKey: keys.privateKey } },
    });
    keys.apiV3Key = stack.keyMaterial.apiV3Key;
  });
  after(async () => {
    await stack?.close();
  });

  test('sync repairs a lost SIGN_CONTRACT callback and announces ContractSigned once', async () => {
    const { code, token } = await presign();
    await dropCallbacks(1);
    await simulator().agree(token);
    const delivery = simulator()
      .callbacks()
      .find((c) => c.out_contract_code === code);
    assert.equal(delivery?.state, 'dropped');

    const plain = await stack.request('GET', `/contracts/${code}`);
    assert.equal(plain.status, 200);
    assert.equal(plain.body.state, 'PRESIGNED', 'without sync we only know what we were told');

    const contract = simulator()
      .contracts()
      .find((c) => c.out_contract_code === code);
    const synced = await stack.request('GET', `/contracts/${code}?sync=true`);
    assert.equal(synced.status, 200, JSON.stringify(synced.body));
    assert.equal(synced.body.state, 'SIGNED');
    assert.equal(synced.body.contract_id, contract?.contract_id);
    assert.equal(synced.body.contract_signed_time, contract?.contract_signed_time);
    assert.equal(synced.body.origin, 'PRESIGN');

    const again = await stack.request('GET', `/contracts/${code}?sync=true`);
    assert.equal(again.body.state, 'SIGNED');
    assert.equal(again.body.updated_at, synced.body.updated_at, 'the second sync wrote nothing');
    const queries = simulator()
      .requests()
      .filter((r) => r.method === 'GET' && r.url.endsWith(`/contracts/${code}`));
    assert.equal(queries.length, 2, 'each sync asked WeChat Pay');

    assert.equal((await eventsOf(code, 'ContractSigned')).length, 1);
    const [event] = await eventsOf(code, 'ContractSigned');
    assert.equal(event?.detail.contract_id, contract?.contract_id);
    assert.equal(event?.detail.previous_state, 'PRESIGNED');
  });

  test('GET answers our record without the identity, 404 for an unknown code, 400 for a bad sync', async () => {
    const { code } = await presign();
    const res = await stack.request('GET', `/contracts/${code}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.out_contract_code, code);
    assert.equal(res.body.request_hash, undefined);
    assert.equal(res.body.version, undefined);
    const text = JSON.stringify(res.body);
    assert.ok(!text.includes(PERSON.name) && !text.includes(PERSON.id), 'identity leaked');

    const unknown = uniqueCode();
    for (const path of [`/contracts/${unknown}`, `/contracts/${unknown}?sync=true`]) {
      const missing = await stack.request('GET', path);
      assert.equal(missing.status, 404, path);
      assert.equal(missing.body.code, 'CONTRACT_NOT_FOUND');
    }
    const bad = await stack.request('GET', `/contracts/${code}?sync=yes`);
    assert.equal(bad.status, 400);
    assert.deepEqual(
      (bad.body.errors as { field: string }[]).map((e) => e.field),
      ['sync'],
    );
  });

  test('sync leaves a presign whose token is still open alone (WeChat Pay has no contract yet)', async () => {
    const { code } = await presign();
    const res = await stack.request('GET', `/contracts/${code}?sync=true`);
    assert.equal(res.status, 200);
    assert.equal(res.body.state, 'PRESIGNED');
  });

  test('terminate again (the identical request replays, another remark is refused), then a late SIGN_CONTRACT: the contract stays TERMINATED', async () => {
    const code = await signed();
    const first = await terminate(code);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.state, 'TERMINATED');
    assert.equal(first.body.contract_terminated_mode, 'TERMINATION_MODE_BY_MERCHANT');
    assert.equal(first.body.contract_termination_remark, '客户申请解约');
    assert.equal(
      simulator()
        .contracts()
        .find((c) => c.out_contract_code === code)?.state,
      'TERMINATED',
    );

    // The identical request again replays the record; another remark is a conflict.
    const again = await terminate(code);
    assert.deepEqual(
      [again.status, again.body.state, again.body.contract_termination_remark],
      [200, 'TERMINATED', '客户申请解约'],
    );
    const second = await terminate(code, { contract_termination_remark: '另一个理由' });
    assert.equal(second.status, 409);
    assert.equal(second.body.code, 'CONTRACT_STATE_CONFLICT');
    assert.equal(second.body.state, 'TERMINATED');
    const terminateCalls = simulator()
      .requests()
      .filter((r) => r.url.endsWith('/contracts/terminate') && r.body.includes(code));
    assert.equal(terminateCalls.length, 1, 'neither later terminate reached WeChat Pay');

    // WeChat Pay's own resend of the original SIGN_CONTRACT (same notification id), then the same news under
    // a new id, as a second WeChat Pay server might send it.
    const original = simulator()
      .callbacks()
      .find((c) => c.out_contract_code === code && c.event_type === SIGN_CONTRACT);
    assert.ok(original);
    const url = `${stack.api.url}${NOTIFY_PATH}`;
    const repeated = await post(
      url,
      resend(keys, { id: original.id, headers: {}, body: Buffer.from(original.body) }),
    );
    assert.equal(repeated.status, 204);
    const late = await post(url, callback(keys, { eventType: SIGN_CONTRACT, resource: original.payload }));
    assert.equal(late.status, 204, JSON.stringify(late.body));

    const now = await stack.request('GET', `/contracts/${code}`);
    assert.equal(now.body.state, 'TERMINATED');
    assert.equal(now.body.updated_at, first.body.updated_at, 'nothing was written after the terminate');
    assert.equal((await eventsOf(code, 'ContractTerminated')).length, 1);
    assert.equal((await eventsOf(code, 'ContractSigned')).length, 1);
  });

  test('terminate refuses an unknown code (404) and a contract that is not SIGNED (409 with its state)', async () => {
    const unknown = await terminate(uniqueCode());
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'CONTRACT_NOT_FOUND');
    const { code } = await presign();
    const presigned = await terminate(code);
    assert.equal(presigned.status, 409);
    assert.equal(presigned.body.code, 'CONTRACT_STATE_CONFLICT');
    assert.equal(presigned.body.state, 'PRESIGNED');
  });

  test('terminate validates its body and names the field', async () => {
    const code = await signed();
    const cases: [unknown, string][] = [
      [{ contract_termination_remark: '' }, '/contract_termination_remark'],
      [{ contract_termination_remark: 'x'.repeat(129) }, '/contract_termination_remark'],
      [{ contract_termination_remark: 'ok', mode: 'BY_USER' }, '/mode'],
      [{}, '/contract_termination_remark'],
    ];
    for (const [body, field] of cases) {
      const res = await terminate(code, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.code, 'VALIDATION_FAILED');
      assert.deepEqual(
        (res.body.errors as { field: string }[]).map((e) => e.field),
        [field],
      );
    }
    assert.equal((await stack.request('GET', `/contracts/${code}`)).body.state, 'SIGNED');
    const ok = await terminate(code, { contract_termination_remark: '解'.repeat(128) });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  test('a terminate whose answer was lost: the retry is refused by WeChat Pay and settled from the query', async () => {
    const code = await signed();
    // WeChat Pay terminates, then the connection drops before its answer (and its callback is lost too).
    simulator().injectFault({
      path: '/v3/credit-repayment/partner/contracts/terminate',
      count: 1,
      drop: true,
    });
    await dropCallbacks(1);
    const lost = await terminate(code);
    assert.equal(lost.status, 503, JSON.stringify(lost.body));
    assert.equal(lost.body.code, 'WECHATPAY_UNAVAILABLE');
    assert.equal(
      simulator()
        .contracts()
        .find((c) => c.out_contract_code === code)?.state,
      'TERMINATED',
    );
    assert.equal((await stack.request('GET', `/contracts/${code}`)).body.state, 'SIGNED');

    const retried = await terminate(code);
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.state, 'TERMINATED');
    assert.equal((await eventsOf(code, 'ContractTerminated')).length, 1);
  });

  test('sync repairs a lost TERMINATE_CONTRACT callback', async () => {
    const code = await signed();
    simulator().injectFault({
      path: '/v3/credit-repayment/partner/contracts/terminate',
      count: 1,
      drop: true,
    });
    await dropCallbacks(1);
    assert.equal((await terminate(code)).status, 503);
    const synced = await stack.request('GET', `/contracts/${code}?sync=true`);
    assert.equal(synced.body.state, 'TERMINATED');
    assert.equal(synced.body.contract_terminated_mode, 'TERMINATION_MODE_BY_MERCHANT');
  });

  test('a DynamoDB failure answers a generic 503; the log line has the AWS error and the table', async () => {
    const { code } = await presign();
    const missing = `no-such-table-${code}`;
    const handler = makeHandler(
      contractDeps(createRuntime({ env: { ...process.env, ...stack.env, CONTRACTS_TABLE: missing } })),
    );
    const event = {
      version: '2.0',
      routeKey: 'GET /contracts/{out_contract_code}',
      rawPath: `/contracts/${code}`,
      rawQueryString: '',
      headers: {},
      pathParameters: { out_contract_code: code },
      requestContext: { requestId: 'r-503', http: { method: 'GET', path: `/contracts/${code}` } },
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const output = captureOutput();
    let res: APIGatewayProxyStructuredResultV2;
    try {
      res = (await handler(event, lambdaContext('contracts'))) as APIGatewayProxyStructuredResultV2;
    } finally {
      output.stop();
    }
    assert.equal(res.statusCode, 503);
    assert.deepEqual(JSON.parse(String(res.body)), {
      code: 'DEPENDENCY_UNAVAILABLE',
      message: UNAVAILABLE_MESSAGES.DEPENDENCY_UNAVAILABLE,
    });
    const failed = output.logs().find((l) => l.message === 'request failed');
    assert.match(JSON.stringify(failed?.error), /ResourceNotFoundException/);
  });
});
