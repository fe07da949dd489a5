import assert from 'node:assert/strict';
import { constants, createDecipheriv, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { describe, it } from 'node:test';
import { Aes, Rsa } from 'wechatpay-axios-plugin';
import { NotificationRejected } from '../../../../lib/errors';
import { decryptResource, encryptField } from '../../../../lib/wechatpay/cipher';
import { sealResource } from '../../../support/wechatpay/callbacks';

// V4: wechatpay-java AeadAesCipherTest; V5: wechatpay-axios-plugin tests/lib/aes.test.js (16-byte IV).
const V4 = {
  key: Buffer.from('a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb'),
  nonce: 'uluk4a9R25RW',
  associated_data: 'associatedData',
  plaintext: 'message',
  ciphertext: 'ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=',
};
const V5 = {
  key: Buffer.from('0123456789abcdef0123456789abcdef'),
  iv: '0123456789abcdef',
  cases: [
    { plaintext: '', associated_data: '', ciphertext: 'GvpmmdtYwexXIPhySs9Tlg==' },
    { plaintext: 'hello', associated_data: 'world', ciphertext: 'APoZlYpivU3HjbAiB4CvW1rAFr8J' },
  ],
};
// V2's resource (wechatpay-go notify_test.go) is sealed with a 16-byte key, i.e. AES-128-GCM.
const V2_RESOURCE = {
  key: Buffer.from('testMchAPIv3Key0'),
  nonce: 'Kj7QIyUiYx1q',
  associated_data: 'payscore',
  ciphertext:
    'YDS3lKPaC4Y52Gf3uhft5qUBlIa8b428AWTtTauHQfQrRw+X1WpiuHIDy0vo1Vd6VEq67aVyqPdDYMkRVSDaZL3iZttevRMOoPKMifozg6XPWjIZumks/GpT48lI4NizyeaqLBokNebthah3o1H76qSlO9NkDjp9bzmKLEYYH9TEklFUpsvPqOTOcgSLgh21YJXYR7dEBXFgRLiNIKRgO5JdXh1hccRUAlyVWxE54PXpnQ==',
  plaintext:
    '{"mchid":"1234567890","appid":"054aa7d7a2a54ab5898df65bd96f001c","create_time":"2020-06-30T12:12:00+08:00","out_contract_code":"21640bdbd08e473e828f3206a2741c6e"}',
};

const KEY = Buffer.from('0123456789ABCDEFGHIJKLMNOPQRSTUV');

/** WeChat Pay's side (test/support, node:crypto only), Base64 as a resource carries it. */
const seal = (key: Buffer, plaintext: string, nonce: string, aad: string): string =>
  sealResource(key, plaintext, nonce, aad).toString('base64');

function rejected(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof NotificationRejected, `expected NotificationRejected, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

describe('decryptResource', () => {
  it('V4: decrypts the wechatpay-java vector, which the test sealer reproduces', () => {
    assert.equal(decryptResource(V4.key, V4).toString(), V4.plaintext);
    assert.equal(seal(V4.key, V4.plaintext, V4.nonce, V4.associated_data), V4.ciphertext);
  });

  it('V5: works with a 16-byte IV, and an empty plaintext is just the tag', () => {
    for (const c of V5.cases) {
      assert.equal(seal(V5.key, c.plaintext, V5.iv, c.associated_data), c.ciphertext);
      assert.equal(decryptResource(V5.key, { ...c, nonce: V5.iv }).toString(), c.plaintext);
    }
    const [empty] = V5.cases;
    assert.ok(empty);
    // An absent associated_data means empty AAD.
    assert.equal(decryptResource(V5.key, { ciphertext: empty.ciphertext, nonce: V5.iv }).length, 0);
  });

  it('V2: the resource opens with AES-128-GCM, so decryptResource refuses its 16-byte key', () => {
    const sealed = Buffer.from(V2_RESOURCE.ciphertext, 'base64');
    const decipher = createDecipheriv('aes-128-gcm', V2_RESOURCE.key, Buffer.from(V2_RESOURCE.nonce));
    decipher.setAAD(Buffer.from(V2_RESOURCE.associated_data));
    decipher.setAuthTag(sealed.subarray(-16));
    const plaintext = Buffer.concat([decipher.update(sealed.subarray(0, -16)), decipher.final()]);
    assert.equal(plaintext.toString(), V2_RESOURCE.plaintext);
    rejected(
      () => decryptResource(V2_RESOURCE.key, V2_RESOURCE),
      /^APIv3 key is 16 bytes; AEAD_AES_256_GCM needs 32$/,
    );
  });

  it('agrees with wechatpay-axios-plugin AesGcm, and so does the test sealer', () => {
    const plaintext = '{"out_contract_code":"C1","contract_state":"CONTRACT_STATE_EFFECTIVE","中":"文"}';
    const theirs = Aes.AesGcm.encrypt(plaintext, KEY, 'abcdefghijkl', 'credit_repayment');
    assert.equal(
      decryptResource(KEY, {
        ciphertext: theirs,
        nonce: 'abcdefghijkl',
        associated_data: 'credit_repayment',
      }).toString(),
      plaintext,
    );
    const ours = seal(KEY, plaintext, 'abcdefghijkl', 'credit_repayment');
    assert.equal(ours, theirs);
    assert.equal(Aes.AesGcm.decrypt(ours, KEY, 'abcdefghijkl', 'credit_repayment'), plaintext);
  });

  it('rejects tampering with ciphertext, tag, nonce, AAD or key as an authentication failure', () => {
    const resource = {
      ciphertext: seal(KEY, 'secret', 'nonce0000001', 'aad'),
      nonce: 'nonce0000001',
      associated_data: 'aad',
    };
    const sealed = Buffer.from(resource.ciphertext, 'base64');
    const flip = (i: number) => {
      const copy = Buffer.from(sealed);
      copy[i] = (copy[i] ?? 0) ^ 0x01;
      return copy.toString('base64');
    };
    const auth =
      /^resource ciphertext failed AES-256-GCM authentication \(wrong APIv3 key, nonce or associated_data\?\)$/;
    rejected(() => decryptResource(KEY, { ...resource, ciphertext: flip(0) }), auth);
    rejected(() => decryptResource(KEY, { ...resource, ciphertext: flip(sealed.length - 1) }), auth);
    rejected(() => decryptResource(KEY, { ...resource, nonce: 'nonce0000002' }), auth);
    rejected(() => decryptResource(KEY, { ...resource, associated_data: 'aae' }), auth);
    rejected(() => decryptResource(KEY, { ...resource, associated_data: undefined }), auth);
    rejected(() => decryptResource(Buffer.from(KEY).fill(0x41, 0, 1), resource), auth);
    assert.equal(decryptResource(KEY, resource).toString(), 'secret');
  });

  it('rejects malformed input with the reason', () => {
    rejected(() => decryptResource(KEY, { ciphertext: 'not base64!', nonce: 'n' }), /not valid Base64/);
    rejected(() => decryptResource(KEY, { ciphertext: '', nonce: 'n' }), /not valid Base64/);
    rejected(
      () => decryptResource(KEY, { ciphertext: 'AAAAAAAAAAAAAAAAAAAA', nonce: 'n' }),
      /15 bytes, shorter than the 16-byte tag/,
    );
    rejected(() => decryptResource(KEY, { ciphertext: V4.ciphertext, nonce: '' }), /nonce is empty/);
    rejected(() => decryptResource(Buffer.alloc(33), V4), /APIv3 key is 33 bytes/);
  });
});

describe('encryptField', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  it('is RSA-OAEP with SHA-1: node and wechatpay-axios-plugin decrypt it, SHA-256 OAEP does not', () => {
    const plaintext = 'ID 000000000000000000 测试';
    const ciphertext = encryptField(publicKey, plaintext);
    assert.equal(Buffer.from(ciphertext, 'base64').length, 256);
    assert.equal(Rsa.decrypt(ciphertext, privateKey), plaintext);
    const decrypt = (oaepHash: string) =>
      privateDecrypt(
        { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash },
        Buffer.from(ciphertext, 'base64'),
      ).toString();
    assert.equal(decrypt('sha1'), plaintext);
    assert.throws(() => decrypt('sha256'));
  });

  it('is randomised', () => {
    assert.notEqual(encryptField(publicKey, 'same'), encryptField(publicKey, 'same'));
  });

  it('takes up to 214 UTF-8 bytes and refuses more without echoing the plaintext', () => {
    assert.equal(Rsa.decrypt(encryptField(publicKey, 'a'.repeat(214)), privateKey), 'a'.repeat(214));
    assert.equal(Rsa.decrypt(encryptField(publicKey, '中'.repeat(71)), privateKey), '中'.repeat(71));
    for (const plaintext of ['a'.repeat(215), '中'.repeat(72)]) {
      assert.throws(
        () => encryptField(publicKey, plaintext),
        (error: unknown) =>
          error instanceof Error &&
          /^field is 21[56] UTF-8 bytes; RSA-OAEP with a 2048-bit key holds at most 214$/.test(
            error.message,
          ) &&
          !error.message.includes(plaintext.slice(0, 3)),
      );
    }
  });
});
