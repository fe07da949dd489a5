import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { call, contractPath, H5, newCode, presignBody, raw, useSimulator, verifySigned } from './harness';

describe('simulator: request quotas', () => {
  const s = useSimulator();
  const { m } = s;

  const sandbox = (method: string, body?: unknown) =>
    raw(
      s.sim.url,
      method,
      '/sandbox/quota',
      { 'Content-Type': 'application/json' },
      body === undefined ? '' : JSON.stringify(body),
    );
  const presignCall = (code = newCode()) =>
    call(s.sim, m, 'POST', H5, presignBody(s.sim.wechatpayPublicKey().pem, s.receiver.url, code));

  it('answers 429 RATELIMIT_EXCEEDED, signed, past a path quota, and the refused call did nothing', async () => {
    const set = await sandbox('POST', { [H5]: 2 });
    assert.equal(set.status, 200);
    const codes = [newCode(), newCode(), newCode(), newCode()];
    const answers = await Promise.all(codes.map((code) => presignCall(code)));
    const limited = answers.filter((a) => a.status === 429);
    assert.ok(limited.length >= 2, answers.map((a) => a.status).join(','));
    for (const a of limited) {
      assert.equal(a.json.code, 'RATELIMIT_EXCEEDED');
      assert.ok(verifySigned(s.sim.wechatpayPublicKey().pem, a.headers, a.text));
    }
    const accepted = codes.filter((_, i) => answers[i]?.status === 200);
    assert.deepEqual(
      s.sim
        .contracts()
        .map((c) => c.out_contract_code)
        .filter((code) => codes.includes(code))
        .sort(),
      accepted.sort(),
      'only the answered calls created a contract',
    );
    // Other paths are not counted against the presign quota.
    const queried = await call(s.sim, m, 'GET', `${contractPath(accepted[0] ?? '')}?sp_mchid=${m.mchid}`);
    assert.notEqual(queried.status, 429);
    const seen = await sandbox('GET');
    assert.equal((seen.json.throttled as Record<string, number>)[H5], limited.length);
    await sandbox('POST', { [H5]: null });
    assert.equal((await presignCall()).status, 200);
  });

  it('refuses a quota whose path is not under /v3/', async () => {
    const bad = await sandbox('POST', { '/sandbox/faults': 1 });
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.message), /quota path \/sandbox\/faults must start with \/v3\//);
  });
});
