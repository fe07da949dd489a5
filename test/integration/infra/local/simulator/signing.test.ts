import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  call,
  contractPath,
  decryptResource,
  presign,
  type Resource,
  raw,
  startReceiver,
  useSimulator,
  verifySigned,
  waitFor,
} from './harness';

describe('simulator: signing page and SIGN_CONTRACT', () => {
  let now = Date.now();
  const s = useSimulator((m) => {
    m.clock = () => now;
    return { clock: () => now };
  });
  const { m } = s;

  const page = (url: string) => raw(s.sim.url, 'GET', url, {});
  const post = (action: string, form: Record<string, string>) =>
    raw(
      s.sim.url,
      'POST',
      action,
      { 'Content-Type': 'application/x-www-form-urlencoded' },
      new URLSearchParams(form).toString(),
    );

  it('shows what the user agrees to, on a mobile page with Agree and Decline buttons', async () => {
    const { code, token } = await presign(s.sim, m, s.receiver.url);
    const res = await page(`/sign?token=${token}`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /text\/html; charset=utf-8/);
    assert.match(res.text, /<meta name="viewport" content="width=device-width/);
    assert.match(res.text, /\*三/);
    assert.match(res.text, />123</, 'plan_id');
    assert.match(res.text, /¥100\.00/, '10000 fen shown in yuan');
    assert.match(res.text, /每月1日/);
    assert.match(res.text, new RegExp(code));
    assert.match(res.text, /<form method="post" action="\/sign\/agree">.*id="agree"/s);
    assert.match(res.text, /<form method="post" action="\/sign\/decline">.*id="decline"/s);
    assert.ok(!res.text.includes('张三'));
  });

  it('answers 404 for an unknown token and 410 once ten minutes have passed', async () => {
    assert.equal((await page('/sign?token=nope')).status, 404);
    const { token } = await presign(s.sim, m, s.receiver.url);
    now += 10 * 60_000 - 1000;
    assert.equal((await page(`/sign?token=${token}`)).status, 200);
    now += 1000;
    const expired = await page(`/sign?token=${token}`);
    assert.equal(expired.status, 410);
    assert.match(expired.text, /已过期/);
    assert.equal((await post('/sign/agree', { token })).status, 410);
    await assert.rejects(s.sim.agree(token), /expired/);
  });

  it('on agree makes the contract effective and delivers a verifiable, decryptable SIGN_CONTRACT', async () => {
    const { code, token } = await presign(s.sim, m, s.receiver.url);
    const before = await call(s.sim, m, 'GET', contractPath(code));
    assert.equal(before.status, 404, 'presigned but unsigned contracts do not exist yet');
    assert.equal(before.json.code, 'RESOURCE_NOT_EXISTS');

    const res = await post('/sign/agree', { token });
    assert.equal(res.status, 200);
    assert.match(res.text, /data-result="agreed"/);
    const [delivery] = s.sim.callbacks().filter((d) => d.out_contract_code === code);
    assert.equal(delivery?.state, 'delivered', 'agree resolves after the first send');
    const got = await waitFor('SIGN_CONTRACT', () =>
      s.receiver.received.find((r) => r.body === delivery?.body),
    );
    assert.equal(got.headers['request-id'], delivery?.attempts[0]?.request_id);
    const { headers, body } = got;
    assert.equal(headers['wechatpay-signature-type'], 'WECHATPAY2-SHA256-RSA2048');
    assert.equal(headers['wechatpay-serial'], s.sim.wechatpayPublicKey().id);
    assert.match(String(headers['content-type']), /application\/json/);
    assert.ok(verifySigned(s.sim.wechatpayPublicKey().pem, headers, body));
    const envelope = JSON.parse(body) as Record<string, unknown> & { resource: Resource };
    assert.equal(envelope.event_type, 'CREDIT_REPAYMENT.SIGN_CONTRACT');
    assert.equal(envelope.resource_type, 'encrypt-resource');
    assert.match(String(envelope.id), /^[0-9a-f-]{36}$/);
    assert.match(String(envelope.create_time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
    assert.equal(envelope.resource.algorithm, 'AEAD_AES_256_GCM');
    assert.equal(envelope.resource.nonce.length, 12);
    const payload = decryptResource(m.apiV3Key, envelope.resource);
    assert.equal(payload.sp_mchid, m.mchid);
    assert.equal(payload.out_contract_code, code);
    assert.equal(payload.plan_id, 123, 'plan_id is a number in callbacks');
    assert.equal(payload.repayment_amount_limit, '10000', 'and the limit a string');
    assert.equal(payload.contract_state, 'CONTRACT_STATE_EFFECTIVE');
    assert.equal(payload.display_name, '*三');
    assert.match(String(payload.openid), /^o\w{27}$/);

    const after = await call(s.sim, m, 'GET', contractPath(code));
    assert.equal(after.status, 200);
    assert.ok(verifySigned(s.sim.wechatpayPublicKey().pem, after.headers, after.text));
    assert.equal(after.json.contract_id, payload.contract_id);
    assert.equal(after.json.openid, payload.openid);
    assert.equal(after.json.repayment_amount_limit, 10000, 'an integer in the query answer');
    assert.equal(after.json.contract_state, 'CONTRACT_STATE_EFFECTIVE');
    assert.equal(after.json.plan_id, '123');
    assert.equal(after.json.repayment_day, 1);
    assert.equal((await page(`/sign?token=${token}`)).status, 409, 'a used link cannot be signed again');
  });

  it('retries a failed callback with the same id and body, a fresh nonce and signature, until 2xx', async () => {
    const failing = await startReceiver([500, 503]);
    try {
      const { token } = await presign(s.sim, m, failing.url);
      await s.sim.agree(token);
      await waitFor('three sends', () => failing.received.length >= 3 || undefined);
      const [first, second, third] = failing.received.map((r) => r);
      assert.ok(first && second && third);
      assert.equal(first.body, third.body, 'same envelope, same notification id');
      assert.notEqual(first.headers['wechatpay-nonce'], second.headers['wechatpay-nonce']);
      for (const r of [first, second, third])
        assert.ok(verifySigned(s.sim.wechatpayPublicKey().pem, r.headers, r.body));
      const delivery = await waitFor('delivered', () =>
        s.sim.callbacks().find((d) => d.url === failing.url && d.state === 'delivered'),
      );
      assert.deepEqual(
        delivery.attempts.map((a) => a.status),
        [500, 503, 204],
      );
      assert.equal(failing.received.length, 3);
    } finally {
      await failing.close();
    }
  });

  it('gives up after the schedule is exhausted, recording each failure', async () => {
    const { token } = await presign(s.sim, m, 'http://127.0.0.1:9/closed');
    await s.sim.agree(token);
    const delivery = await waitFor('failed', () =>
      s.sim.callbacks().find((d) => d.url === 'http://127.0.0.1:9/closed' && d.state === 'failed'),
    );
    assert.equal(delivery.attempts.length, 4, 'schedule of 3 delays = 4 sends');
    for (const a of delivery.attempts) assert.ok(a.error && a.status === undefined);
  });

  it('on decline sends nothing and the contract never exists', async () => {
    const { code, token } = await presign(s.sim, m, s.receiver.url);
    const before = s.receiver.received.length;
    const res = await post('/sign/decline', { token });
    assert.equal(res.status, 200);
    assert.match(res.text, /data-result="declined"/);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(s.receiver.received.length, before);
    assert.ok(!s.sim.callbacks().some((d) => d.out_contract_code === code));
    assert.equal((await call(s.sim, m, 'GET', contractPath(code))).status, 404);
    assert.equal(s.sim.contracts().find((c) => c.out_contract_code === code)?.state, 'DECLINED');
  });

  it('redirects to an http(s) return_url with the outcome, and refuses other schemes', async () => {
    const { code, token } = await presign(s.sim, m, s.receiver.url);
    const back = 'http://127.0.0.1:3000/demo/result?x=1';
    const shown = await page(`/sign?token=${token}&return_url=${encodeURIComponent(back)}`);
    assert.match(shown.text, /name="return_url" value="http:\/\/127\.0\.0\.1:3000\/demo\/result\?x=1"/);
    const res = await post('/sign/agree', { token, return_url: back });
    assert.equal(res.status, 303);
    const location = new URL(String(res.headers.location));
    assert.equal(location.pathname, '/demo/result');
    assert.equal(location.searchParams.get('x'), '1');
    assert.equal(location.searchParams.get('out_contract_code'), code);
    assert.equal(location.searchParams.get('result'), 'agreed');

    const other = await presign(s.sim, m, s.receiver.url);
    const bad = await page(
      `/sign?token=${other.token}&return_url=${encodeURIComponent('javascript:alert(1)')}`,
    );
    assert.equal(bad.status, 400);
  });
});
