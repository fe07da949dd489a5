import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Simulator } from '../../../../../infra/local/simulator';
import {
  APP,
  authorization,
  call,
  H5,
  type Merchant,
  newCode,
  newMerchant,
  oaep,
  presignBody,
  residentId,
  startFor,
  verifySigned,
} from './harness';

const NOTIFY = 'https://merchant.example.com/wechatpay/notifications';

describe('simulator: presign', () => {
  const m: Merchant = newMerchant();
  let sim: Simulator;
  let pem: string;
  const lines: string[] = [];

  before(async () => {
    sim = await startFor(m, { log: (l) => lines.push(l) });
    pem = sim.wechatpayPublicKey().pem;
  });
  after(() => sim.close());

  const body = (code = newCode(), overrides: Record<string, unknown> = {}) =>
    presignBody(pem, NOTIFY, code, overrides);

  it('answers a valid H5 presign with a signed redirect_url to its signing page', async () => {
    const code = newCode();
    const res = await call(sim, m, 'POST', H5, body(code));
    assert.equal(res.status, 200, res.text);
    const redirect = new URL(String(res.json.redirect_url));
    assert.equal(redirect.origin, sim.url);
    assert.equal(redirect.pathname, '/sign');
    assert.match(redirect.searchParams.get('token') ?? '', /^[0-9A-Za-z]{32}$/);
    assert.equal(res.headers['wechatpay-serial'], sim.wechatpayPublicKey().id);
    assert.match(String(res.headers['wechatpay-serial']), /^PUB_KEY_ID_\d+$/);
    assert.ok(res.headers['request-id']);
    assert.ok(verifySigned(pem, res.headers, res.text), 'response signature verifies');
    assert.equal(verifySigned(pem, res.headers, `${res.text} `), false, 'and fails on other bytes');
    const [stored] = sim.contracts().filter((c) => c.out_contract_code === code);
    assert.equal(stored?.state, 'PRESIGNED');
    assert.equal(stored?.display_name, '*三');
    assert.equal(stored?.real_identity_verified, true);
    const everything = JSON.stringify([sim.contracts(), lines]);
    assert.ok(
      !everything.includes('张三') && !everything.includes(residentId()),
      'no plaintext identity kept',
    );
  });

  it('answers an APP presign with a presign_token', async () => {
    const res = await call(sim, m, 'POST', APP, body(newCode()));
    assert.equal(res.status, 200, res.text);
    assert.match(String(res.json.presign_token), /^[0-9A-Za-z]{32}$/);
    assert.deepEqual(Object.keys(res.json), ['presign_token']);
  });

  it('takes the APP sub-merchant id under the one configured name: sub_mchid by default, else sub_merchant_code', async () => {
    const asCode = { sub_merchant_code: '1000000109', sub_mchid: undefined };
    const refused = await call(sim, m, 'POST', APP, body(newCode(), asCode));
    assert.equal(refused.status, 400);
    assert.equal((refused.json.detail as { field?: string }).field, '/sub_merchant_code');
    const other = await startFor(m, { appSubMerchantField: 'sub_merchant_code' });
    try {
      const otherBody = (overrides: Record<string, unknown>) =>
        presignBody(other.wechatpayPublicKey().pem, NOTIFY, newCode(), overrides);
      const code = newCode();
      const accepted = await call(
        other,
        m,
        'POST',
        APP,
        presignBody(other.wechatpayPublicKey().pem, NOTIFY, code, asCode),
      );
      assert.equal(accepted.status, 200, accepted.text);
      assert.equal(other.contracts().find((c) => c.out_contract_code === code)?.sub_mchid, '1000000109');
      const old = await call(other, m, 'POST', APP, otherBody({}));
      assert.equal(old.status, 400, 'sub_mchid is the unknown field there');
      assert.equal((old.json.detail as { field?: string }).field, '/sub_mchid');
      const h5 = await call(other, m, 'POST', H5, otherBody({}));
      assert.equal(h5.status, 200, 'H5 always takes sub_mchid');
    } finally {
      await other.close();
    }
  });

  it('rejects a wrong signature with 401 SIGN_ERROR and the sign_information it computed', async () => {
    const text = JSON.stringify(body());
    const signedOther = authorization(m, 'POST', H5, `${text} `);
    const res = await call(sim, m, 'POST', H5, text, { authorization: signedOther });
    assert.equal(res.status, 401);
    assert.equal(res.json.code, 'SIGN_ERROR');
    const detail = res.json.detail as Record<string, unknown>;
    assert.equal(detail.field, 'signature');
    assert.equal(detail.location, 'authorization');
    assert.deepEqual(detail.detail, { issue: 'sign not match' });
    const info = detail.sign_information as Record<string, unknown>;
    assert.equal(info.method, 'POST');
    assert.equal(info.url, H5);
    // POST\n + url\n + 10-digit ts\n + 32-char nonce\n + body\n
    assert.equal(info.sign_message_length, 5 + H5.length + 1 + 11 + 33 + Buffer.byteLength(text) + 1);
    assert.match(String(info.truncated_sign_message), new RegExp(`^POST\\n${H5}\\n\\d{10}\\n\\w{4}…\\n`));
    assert.ok(res.headers['request-id'], 'errors carry Request-ID');
  });

  it('signs over the exact query string and rejects a stale timestamp, a foreign mchid and serial', async () => {
    const text = JSON.stringify(body());
    const stale = authorization(m, 'POST', H5, text, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    const res1 = await call(sim, m, 'POST', H5, text, { authorization: stale });
    assert.equal(res1.status, 401);
    assert.equal((res1.json.detail as Record<string, unknown>).field, 'timestamp');
    assert.match(JSON.stringify(res1.json.detail), /timestamp skew 30\d s exceeds 300 s/);

    const other = { ...m, mchid: '1900000999' };
    const res2 = await call(sim, m, 'POST', H5, text, {
      authorization: authorization(other, 'POST', H5, text),
    });
    assert.equal(res2.status, 401);
    assert.equal((res2.json.detail as Record<string, unknown>).field, 'mchid');

    const otherSerial = { ...m, serialNo: 'ABCDEF' };
    const res3 = await call(sim, m, 'POST', H5, text, {
      authorization: authorization(otherSerial, 'POST', H5, text),
    });
    assert.equal(res3.status, 401);
    assert.equal((res3.json.detail as Record<string, unknown>).field, 'serial_no');

    const spaced = authorization(m, 'POST', H5, text).replace('",nonce_str', '", nonce_str');
    const res4 = await call(sim, m, 'POST', H5, text, { authorization: spaced });
    assert.equal(res4.status, 401);
    assert.equal((res4.json.detail as Record<string, unknown>).field, 'authorization');
  });

  it('requires Accept and User-Agent before looking at the signature', async () => {
    for (const omitted of ['User-Agent', 'Accept']) {
      const res = await call(sim, m, 'POST', H5, body(), { omit: [omitted], authorization: 'garbage' });
      assert.equal(res.status, 400, omitted);
      assert.equal(res.json.code, 'INVALID_REQUEST');
      assert.equal(res.json.message, 'Http头缺少Accept或User-Agent');
    }
  });

  it('requires Wechatpay-Serial naming its current public key', async () => {
    const missing = await call(sim, m, 'POST', H5, body(), { serial: null });
    assert.equal(missing.status, 400);
    assert.equal(missing.json.code, 'PARAM_ERROR');
    assert.equal(missing.json.message, 'HTTP header缺少微信支付平台证书序列号(Wechatpay-Serial)');
    const unknown = await call(sim, m, 'POST', H5, body(), {
      serial: 'PUB_KEY_ID_0000000000000000000000000000',
    });
    assert.equal(unknown.status, 400);
    assert.equal((unknown.json.detail as Record<string, unknown>).field, 'Wechatpay-Serial');
    assert.equal((unknown.json.detail as Record<string, unknown>).location, 'header');
  });

  it('refuses a reused out_contract_code', async () => {
    const code = newCode();
    assert.equal((await call(sim, m, 'POST', H5, body(code))).status, 200);
    const again = await call(sim, m, 'POST', APP, body(code));
    assert.equal(again.status, 400);
    assert.equal(again.json.code, 'INVALID_REQUEST');
    assert.match(String(again.json.message), /协议号已存在/);
  });

  const invalid: [string, Record<string, unknown>, string, string?][] = [
    ['appid too long', { appid: 'w'.repeat(33) }, '/appid'],
    ['plan_id as a number', { plan_id: 123 }, '/plan_id'],
    ['out_contract_code with _', { out_contract_code: 'ab_c' }, '/out_contract_code'],
    ['unmasked display_name', { display_name: '张三' }, '/display_name'],
    ['display_name not the mask of real_name', { display_name: '**三' }, '/display_name'],
    ['notify url with a query', { contract_notify_url: `${NOTIFY}?a=1` }, '/contract_notify_url'],
    [
      'plain http notify url',
      { contract_notify_url: 'http://merchant.example.com/n' },
      '/contract_notify_url',
    ],
    ['repayment_day 32', { repayment_day: 32 }, '/repayment_day'],
    ['repayment_day as a string', { repayment_day: '1' }, '/repayment_day'],
    ['repayment_amount_limit as an integer', { repayment_amount_limit: 10000 }, '/repayment_amount_limit'],
    ['repayment_amount_limit 0', { repayment_amount_limit: '0' }, '/repayment_amount_limit'],
    ['unknown field', { foo: 'bar' }, '/foo'],
    ['null value', { sub_appid: null }, '/sub_appid'],
    ['emoji', { plan_id: 'plan😀' }, '/plan_id'],
    ['jump_info on APP', { jump_info: { jump_appid: 'wx1' } }, '/jump_info', APP],
    [
      'identity_type INVALID',
      { real_identity: { identity_type: 'REAL_IDENTITY_TYPE_INVALID', identity_id: 'x', real_name: 'y' } },
      '/real_identity/identity_type',
    ],
    [
      'trade_info without deduct_amount',
      { trade_info: { out_trade_no: '1217752501201407033233368018' } },
      '/trade_info/deduct_amount',
    ],
    [
      'deduct_amount as a string',
      { trade_info: { out_trade_no: 'ABC123456', deduct_amount: '100' } },
      '/trade_info/deduct_amount',
    ],
    ['missing display_name', { display_name: undefined }, '/display_name'],
  ];
  for (const [name, overrides, field, path = H5] of invalid) {
    it(`rejects ${name} with PARAM_ERROR at ${field}`, async () => {
      const res = await call(sim, m, 'POST', path, body(newCode(), overrides));
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.code, 'PARAM_ERROR');
      const detail = res.json.detail as Record<string, unknown>;
      assert.equal(detail.field, field);
      assert.equal(detail.location, 'body');
      assert.equal(typeof detail.issue, 'string');
    });
  }

  it('rejects identity fields it cannot decrypt, without echoing them', async () => {
    const stranger = (await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 2048 });
    const strangerPem = stranger.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const realIdentity = {
      identity_type: 'REAL_IDENTITY_TYPE_ID_CARD',
      identity_id: oaep(strangerPem, residentId()),
      real_name: oaep(pem, '张三'),
    };
    const res = await call(sim, m, 'POST', H5, body(newCode(), { real_identity: realIdentity }));
    assert.equal(res.status, 400);
    assert.deepEqual(res.json.detail, {
      field: '/real_identity/identity_id',
      issue: '解密失败',
      location: 'body',
    });
  });

  it('rejects an ID number with a wrong check character', async () => {
    const id = residentId();
    const wrong = `${id.slice(0, 17)}${id[17] === '0' ? '1' : '0'}`;
    const realIdentity = {
      identity_type: 'REAL_IDENTITY_TYPE_ID_CARD',
      identity_id: oaep(pem, wrong),
      real_name: oaep(pem, '张三'),
    };
    const res = await call(sim, m, 'POST', H5, body(newCode(), { real_identity: realIdentity }));
    assert.equal(res.status, 400);
    const detail = res.json.detail as Record<string, unknown>;
    assert.equal(detail.field, '/real_identity/identity_id');
    assert.ok(!res.text.includes(wrong));
  });

  it('accepts the optional presign fields and loopback http notify URLs', async () => {
    const res = await call(
      sim,
      m,
      'POST',
      H5,
      body(newCode(), {
        contract_notify_url: 'http://127.0.0.1:3000/wechatpay/notifications',
        sub_appid: 'wx_sub',
        display_name: '***娜',
        real_identity: {
          identity_type: 'REAL_IDENTITY_TYPE_ID_CARD',
          identity_id: oaep(pem, residentId()),
          real_name: oaep(pem, '欧阳娜娜'),
        },
        trade_info: { out_trade_no: 'ABC123456', deduct_amount: 500, description: '信贷还款', attach: 'x' },
        jump_info: { jump_appid: 'wxjump' },
      }),
    );
    assert.equal(res.status, 200, res.text);
  });
});
