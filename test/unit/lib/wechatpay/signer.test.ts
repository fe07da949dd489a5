import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { PemSigner } from '../../../../lib/wechatpay/signer';
import { V1 } from '../../../support/wechatpay/vectors';

const V1_KEY = V1.private_key_pkcs8_pem;
const V1_SIGNATURE = V1.signature_base64;

// V1: wechatpay-go utils/sign_test.go; PKCS1v15 is deterministic, so the signature is a fixed answer.

describe('PemSigner', () => {
  it('signs "source" with the V1 key to the published signature (PEM and KeyObject)', async () => {
    assert.equal(await new PemSigner(V1_KEY).sign(Buffer.from('source')), V1_SIGNATURE);
    assert.equal(await new PemSigner(createPrivateKey(V1_KEY)).sign(Buffer.from('source')), V1_SIGNATURE);
  });

  it('signs other messages differently', async () => {
    assert.notEqual(await new PemSigner(V1_KEY).sign(Buffer.from('source\n')), V1_SIGNATURE);
  });

  it('refuses a public key and a non-RSA key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    assert.throws(() => new PemSigner(rsa.publicKey), /RSA private key, got a rsa public key/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.throws(() => new PemSigner(ec.privateKey), /RSA private key, got a ec private key/);
  });
});
