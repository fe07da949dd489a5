import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { Formatter, Rsa } from 'wechatpay-axios-plugin';
import { authorization } from '../../../../lib/wechatpay/authorization';
import { PemSigner } from '../../../../lib/wechatpay/signer';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const creds = {
  mchid: '1900000001',
  serialNo: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
  signer: new PemSigner(privateKey),
};
const req = {
  method: 'POST',
  url: '/v3/credit-repayment/partner/contracts/h5-presign',
  body: '{"plan_id":"100","display_name":"***G","note":"中文"}',
  timestamp: '1700000000',
  nonce: 'Ab3dEf7hIj1lMn0pQr5tUv9xYz2BcD4F',
};

function parse(header: string): Record<string, string> {
  const match = /^WECHATPAY2-SHA256-RSA2048 (.+)$/.exec(header);
  assert.ok(match?.[1], header);
  return Object.fromEntries(
    match[1].split(/,(?=\w+=")/).map((pair) => {
      const m = /^(\w+)="([^"]*)"$/.exec(pair);
      assert.ok(m?.[1] !== undefined && m[2] !== undefined, pair);
      return [m[1], m[2]];
    }),
  );
}

describe('authorization', () => {
  it('has the scheme, then exactly the five quoted pairs without spaces', async () => {
    const header = await authorization(creds, req);
    assert.match(
      header,
      /^WECHATPAY2-SHA256-RSA2048 mchid="1900000001",nonce_str="[^"]+",signature="[^"]+",timestamp="1700000000",serial_no="5157F09EFDC096DE15EBE81A47057A7232F1B8E1"$/,
    );
    const pairs = parse(header);
    assert.deepEqual(Object.keys(pairs).sort(), [
      'mchid',
      'nonce_str',
      'serial_no',
      'signature',
      'timestamp',
    ]);
    assert.equal(pairs.nonce_str, req.nonce);
  });

  it('verifies with wechatpay-axios-plugin: its Formatter rebuilds the message, its Rsa.verify accepts', async () => {
    const { signature } = parse(await authorization(creds, req));
    assert.ok(signature);
    const message = Formatter.request(req.method, req.url, req.timestamp, req.nonce, req.body);
    assert.equal(Rsa.verify(message, signature, publicKey), true);
    // And it is really bound to the body: one changed character fails.
    const tampered = Formatter.request(
      req.method,
      req.url,
      req.timestamp,
      req.nonce,
      req.body.replace('100', '101'),
    );
    assert.equal(Rsa.verify(tampered, signature, publicKey), false);
  });

  it('signs a GET with an empty body exactly as wechatpay-axios-plugin does (deterministic PKCS1v15)', async () => {
    const get = { ...req, method: 'get', url: '/v3/credit-repayment/partner/contracts/C1?x=1', body: '' };
    const { signature } = parse(await authorization(creds, get));
    assert.equal(
      signature,
      Rsa.sign(Formatter.request('GET', get.url, get.timestamp, get.nonce, ''), privateKey),
    );
  });
});
