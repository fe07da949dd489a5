import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  call,
  contractPath,
  H5,
  newCode,
  presign,
  presignBody,
  raw,
  useSimulator,
  verifySigned,
  waitFor,
} from './harness';

describe('simulator: fault switch, lost callbacks and signature probes', () => {
  const s = useSimulator();
  const { m } = s;

  const sandbox = (path: string, body: unknown) =>
    raw(s.sim.url, 'POST', path, { 'Content-Type': 'application/json' }, JSON.stringify(body));
  const presignCall = (code = newCode()) =>
    call(s.sim, m, 'POST', H5, presignBody(s.sim.wechatpayPublicKey().pem, s.receiver.url, code));

  it('answers the next N calls of a path with the given status, without processing them', async () => {
    const armed = await sandbox('/sandbox/faults', { path: H5, count: 2, status: 500 });
    assert.equal(armed.status, 201);
    const code = newCode();
    for (let i = 0; i < 2; i++) {
      const res = await presignCall(code);
      assert.equal(res.status, 500);
      assert.deepEqual(res.json, { code: 'SYSTEM_ERROR', message: '系统错误' });
      assert.ok(res.headers['request-id']);
      assert.ok(verifySigned(s.sim.wechatpayPublicKey().pem, res.headers, res.text));
    }
    assert.equal((await presignCall(code)).status, 200, 'the faulted calls did not claim the code');
    s.sim.injectFault({ path: '/v3/credit-repayment', count: 1, status: 429 });
    const limited = await presignCall();
    assert.equal(limited.status, 429);
    assert.equal(limited.json.code, 'RATELIMIT_EXCEEDED');
    const faulted = s.sim.requests().filter((r) => r.fault === 'status');
    assert.deepEqual(
      faulted.map((r) => r.status),
      [500, 500, 429],
    );
  });

  it('shapes a status answer: its Retry-After header, or a body that is not JSON, still signed', async () => {
    await sandbox('/sandbox/faults', { path: H5, count: 1, status: 429, retryAfter: 7 });
    const limited = await presignCall();
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '7');
    s.sim.injectFault({ path: H5, count: 1, status: 200, raw: 'not json' });
    const garbled = await presignCall();
    assert.equal(garbled.status, 200);
    assert.equal(garbled.text, 'not json');
    assert.ok(verifySigned(s.sim.wechatpayPublicKey().pem, garbled.headers, garbled.text));
  });

  it('delays: the request is processed at once and answered late', async () => {
    s.sim.injectFault({ path: H5, count: 1, delayMs: 300 });
    const code = newCode();
    const started = Date.now();
    const res = await presignCall(code);
    assert.equal(res.status, 200);
    assert.ok(Date.now() - started >= 300, 'answered after the delay');
    const contract = s.sim.contracts().find((c) => c.out_contract_code === code);
    assert.ok(contract && Date.parse(contract.presigned_time) <= started + 1000, 'processed on arrival');
    assert.equal(s.sim.requests().at(-1)?.fault, 'delay');
  });

  it('rejects a malformed fault', async () => {
    const res = await sandbox('/sandbox/faults', { path: H5, count: 0 });
    assert.equal(res.status, 400);
    assert.match(String(res.json.message), /count/);
    const shapeless = await sandbox('/sandbox/faults', { path: H5, count: 1, retryAfter: 1 });
    assert.equal(shapeless.status, 400);
    assert.match(String(shapeless.json.message), /give status too/);
  });

  it('hangs: the caller times out and nothing is processed', async () => {
    s.sim.injectFault({ path: H5, count: 1, hang: true });
    const code = newCode();
    await assert.rejects(
      call(s.sim, m, 'POST', H5, presignBody(s.sim.wechatpayPublicKey().pem, s.receiver.url, code), {
        timeoutMs: 300,
      }),
      /client timeout/,
    );
    assert.ok(!s.sim.contracts().some((c) => c.out_contract_code === code));
    assert.equal(s.sim.requests().at(-1)?.fault, 'hang');
  });

  it('drops: the request is processed but the connection closes without an answer', async () => {
    await sandbox('/sandbox/faults', { path: H5, count: 1, drop: true });
    const code = newCode();
    await assert.rejects(presignCall(code), /socket hang up|ECONNRESET/);
    assert.equal(s.sim.contracts().find((c) => c.out_contract_code === code)?.state, 'PRESIGNED');
    const retry = await presignCall(code);
    assert.equal(retry.status, 400, 'the retry finds the code already used');
    assert.equal(
      (await call(s.sim, m, 'GET', contractPath(code))).status,
      404,
      'and the query still says none',
    );
  });

  it('loses the next N callbacks entirely when asked', async () => {
    assert.equal((await sandbox('/sandbox/drop-callbacks', { count: 1 })).status, 200);
    const lost = await presign(s.sim, m, s.receiver.url);
    const kept = await presign(s.sim, m, s.receiver.url);
    const before = s.receiver.received.length;
    await s.sim.agree(lost.token);
    await s.sim.agree(kept.token);
    const byCode = (code: string) => s.sim.callbacks().find((d) => d.out_contract_code === code);
    assert.equal(byCode(lost.code)?.state, 'dropped');
    assert.equal(byCode(lost.code)?.attempts.length, 0);
    assert.equal(byCode(kept.code)?.state, 'delivered');
    assert.equal(s.receiver.received.length, before + 1);
    const query = await call(s.sim, m, 'GET', contractPath(lost.code));
    assert.equal(
      query.json.contract_state,
      'CONTRACT_STATE_EFFECTIVE',
      'query still knows the signed contract',
    );
  });

  it('sends a WECHATPAY/SIGNTEST/ probe that does not verify', async () => {
    const { code } = await presign(s.sim, m, s.receiver.url);
    const delivery = await s.sim.sendProbe(code);
    assert.equal(delivery.kind, 'probe');
    assert.equal(delivery.attempts.length, 1);
    const got = s.receiver.received.find((r) => r.body === delivery.body);
    assert.ok(got);
    assert.match(String(got.headers['wechatpay-signature']), /^WECHATPAY\/SIGNTEST\//);
    assert.equal(verifySigned(s.sim.wechatpayPublicKey().pem, got.headers, got.body), false);
    const viaHttp = await sandbox('/sandbox/probe', { out_contract_code: code });
    assert.equal(viaHttp.status, 200);
    assert.equal(viaHttp.json.kind, 'probe');
    assert.equal((await sandbox('/sandbox/probe', { out_contract_code: 'nope' })).status, 404);
  });

  it('shifts business time with /sandbox/clock so tokens expire while signatures still verify', async () => {
    const { token } = await presign(s.sim, m, s.receiver.url);
    assert.equal((await sandbox('/sandbox/clock', { offset_ms: 10 * 60_000 })).status, 200);
    try {
      const page = await raw(s.sim.url, 'GET', `/sign?token=${token}`, {});
      assert.equal(page.status, 410);
      assert.equal((await presignCall()).status, 200, 'requests signed with the real clock still pass');
    } finally {
      await sandbox('/sandbox/clock', { offset_ms: 0 });
    }
  });

  it('exposes its state over /sandbox', async () => {
    const contracts = await raw(s.sim.url, 'GET', '/sandbox/contracts', {});
    const requests = await raw(s.sim.url, 'GET', '/sandbox/requests', {});
    const callbacks = await raw(s.sim.url, 'GET', '/sandbox/callbacks', {});
    assert.ok(Array.isArray(JSON.parse(contracts.text)) && JSON.parse(contracts.text).length > 0);
    assert.ok(JSON.parse(requests.text).every((r: { url: string }) => !r.url.startsWith('/sandbox')));
    await waitFor('callbacks listed', () => JSON.parse(callbacks.text).length > 0 || undefined);
  });
});
