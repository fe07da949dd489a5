import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { Formatter, Rsa } from 'wechatpay-axios-plugin';
import { SignatureInvalid } from '../../../../lib/errors';
import { readSignedHeaders, type SignedHeaders, Verifier } from '../../../../lib/wechatpay/verifier';
import { signMessage } from '../../../support/wechatpay/callbacks';
import { V1, V2 } from '../../../support/wechatpay/vectors';

const V1_KEY = V1.private_key_pkcs8_pem;
const V2_CERT = V2.platform_certificate_pem;

// V2: wechatpay-go core/notify/notify_test.go (TestHandler_ParseNotifyRequest); the certificate carries the V1 key.
const V2_HEADERS = {
  'Wechatpay-Nonce': 'EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz',
  'Wechatpay-Timestamp': '1624523846',
  'Wechatpay-Serial': 'D7CE59D1F522D701',
  'Wechatpay-Signature':
    'tJHIiIS9eB2hAYstmAmbbD3ZE5LiIm/Ug5tuL4fC0YOFRWIHV39UFIZXC0e9Wl6lBu6sKvkqDkzpqzBsVHyXFlbYZTOQrVdG4b6LfTnK4mikv9++ixJMd3vTf2yCqvBkh98zs3Ds5zsYQakzbcwhmw4fMJs4nPLws28H0UW9FjDR//rxELLwXvV1VEA1IBLX70xptjL8hrfUjEE8kkry6yNJTHZRU8CAc7qHli2Ng1V1qb9ARbK8A3ThmFmPQvRGrapI/jS2laKKgYUmfdEdkNO6B2Cke5e8VTxY406ArAmQ90GAihDwIcb16TQMnzCMBoutnwZKNiKRACrFmtxw2Q==',
};
const V2_BODY =
  '{"id":"3119dfba-e649-5eec-ab1e-3412bc4d2e17","create_time":"2021-06-24T16:37:26+08:00","resource_type":"encrypt-resource","event_type":"PAYSCORE.USER_OPEN_SERVICE","summary":"签约成功","resource":{"original_type":"payscore","algorithm":"AEAD_AES_256_GCM","ciphertext":"YDS3lKPaC4Y52Gf3uhft5qUBlIa8b428AWTtTauHQfQrRw+X1WpiuHIDy0vo1Vd6VEq67aVyqPdDYMkRVSDaZL3iZttevRMOoPKMifozg6XPWjIZumks/GpT48lI4NizyeaqLBokNebthah3o1H76qSlO9NkDjp9bzmKLEYYH9TEklFUpsvPqOTOcgSLgh21YJXYR7dEBXFgRLiNIKRgO5JdXh1hccRUAlyVWxE54PXpnQ==","associated_data":"payscore","nonce":"Kj7QIyUiYx1q"}}';
const V2_AT = 1624523846;

const V2_SERIAL = 'D7CE59D1F522D701';
const PUB_KEY_ID = 'PUB_KEY_ID_0114232134912410000000000000';
const NOW = 1_700_000_000;
const fixedClock = (seconds: number) => () => seconds * 1000;

const pubKeyPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pubKeyPem = pubKeyPair.publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** A response as WeChat Pay would sign it, signed by wechatpay-axios-plugin rather than by our code. */
function signed(
  privateKey: KeyObject | string,
  serial: string,
  body: string,
  timestamp = NOW,
): SignedHeaders {
  const nonce = Formatter.nonce();
  const signature = Rsa.sign(Formatter.response(timestamp, nonce, body), privateKey);
  return { timestamp: String(timestamp), nonce, signature, serial };
}

function rejects(fn: () => void, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SignatureInvalid, `expected SignatureInvalid, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

describe('readSignedHeaders', () => {
  it('reads the four headers whatever their case', () => {
    const lower = Object.fromEntries(Object.entries(V2_HEADERS).map(([k, v]) => [k.toLowerCase(), v]));
    const expected = {
      timestamp: V2_HEADERS['Wechatpay-Timestamp'],
      nonce: V2_HEADERS['Wechatpay-Nonce'],
      signature: V2_HEADERS['Wechatpay-Signature'],
      serial: V2_HEADERS['Wechatpay-Serial'],
    };
    assert.deepEqual(readSignedHeaders(V2_HEADERS), expected);
    assert.deepEqual(readSignedHeaders({ ...lower, 'wechatpay-serial': [V2_SERIAL] }), expected);
  });

  it('names a missing or empty header, and refuses duplicates', () => {
    const { 'Wechatpay-Nonce': _, ...noNonce } = V2_HEADERS;
    rejects(() => readSignedHeaders(noNonce), /^missing Wechatpay-Nonce header$/);
    rejects(() => readSignedHeaders({ ...V2_HEADERS, 'Wechatpay-Serial': '' }), /missing Wechatpay-Serial/);
    rejects(
      () => readSignedHeaders({ ...V2_HEADERS, 'Wechatpay-Signature': ['a', 'b'] }),
      /multiple Wechatpay-Signature/,
    );
  });
});

describe('Verifier with the V2 signed callback', () => {
  const body = Buffer.from(V2_BODY, 'utf8');

  it('verifies at the published clock with the platform certificate', () => {
    const verifier = new Verifier([[V2_SERIAL, V2_CERT]], { clock: fixedClock(V2_AT) });
    verifier.verify(readSignedHeaders(V2_HEADERS), body);
  });

  it('fails 300 s later', () => {
    const verifier = new Verifier([[V2_SERIAL, V2_CERT]], { clock: fixedClock(V2_AT + 300) });
    rejects(
      () => verifier.verify(readSignedHeaders(V2_HEADERS), body),
      /^timestamp skew 300 s exceeds 300 s$/,
    );
  });

  it('fails when one body byte changes', () => {
    const verifier = new Verifier([[V2_SERIAL, V2_CERT]], { clock: fixedClock(V2_AT) });
    const tampered = Buffer.from(body);
    tampered[10] = (tampered[10] ?? 0) ^ 1;
    rejects(() => verifier.verify(readSignedHeaders(V2_HEADERS), tampered), /does not match/);
  });

  it('refuses a certificate registered under another serial', () => {
    assert.throws(
      () => new Verifier([['0123', V2_CERT]]),
      /certificate serial D7CE59D1F522D701 does not match/,
    );
  });
});

describe('Verifier rules', () => {
  const verifier = new Verifier([[PUB_KEY_ID, pubKeyPem]], { clock: fixedClock(NOW) });
  const body = '{"redirect_url":"https://example.com/x"}';
  const check = (headers: SignedHeaders, raw = body) => verifier.verify(headers, Buffer.from(raw));

  it('accepts a response signed by wechatpay-axios-plugin', () => {
    check(signed(pubKeyPair.privateKey, PUB_KEY_ID, body));
    check(signed(pubKeyPair.privateKey, PUB_KEY_ID, ''), '');
  });

  it('verifies the raw body bytes, even ones that are not valid UTF-8', () => {
    const raw = Buffer.from([0x7b, 0xff, 0xfe, 0xe4, 0xb8, 0x7d]);
    const nonce = 'n0nce000000000000000000000000000';
    const signature = signMessage(pubKeyPair.privateKey, String(NOW), nonce, raw);
    const headers = { timestamp: String(NOW), nonce, signature, serial: PUB_KEY_ID };
    verifier.verify(headers, raw);
    // Decoding and re-encoding would turn the invalid bytes into U+FFFD: a different message.
    rejects(() => verifier.verify(headers, Buffer.from(raw.toString('utf8'))), /does not match/);
  });

  it('lists the known serials when the serial is unknown', () => {
    const two = new Verifier([
      [PUB_KEY_ID, pubKeyPem],
      [V2_SERIAL, V2_CERT],
    ]);
    rejects(
      () => two.verify(signed(pubKeyPair.privateKey, 'PUB_KEY_ID_999', body), Buffer.from(body)),
      new RegExp(`^unknown serial PUB_KEY_ID_999 \\(known: ${PUB_KEY_ID}, ${V2_SERIAL}\\)$`),
    );
  });

  it('rejects WECHATPAY/SIGNTEST/ probes as such', () => {
    const probe = {
      ...signed(pubKeyPair.privateKey, PUB_KEY_ID, body),
      signature: 'WECHATPAY/SIGNTEST/abcdef==',
    };
    rejects(() => check(probe), /signature probe/);
  });

  it('rejects a skew of 300 s either way and accepts 299 s', () => {
    rejects(
      () => check(signed(pubKeyPair.privateKey, PUB_KEY_ID, body, NOW + 300)),
      /timestamp skew 300 s exceeds 300 s/,
    );
    rejects(
      () => check(signed(pubKeyPair.privateKey, PUB_KEY_ID, body, NOW - 300)),
      /timestamp skew 300 s exceeds 300 s/,
    );
    rejects(
      () => check(signed(pubKeyPair.privateKey, PUB_KEY_ID, body, NOW - 412)),
      /timestamp skew 412 s exceeds 300 s/,
    );
    check(signed(pubKeyPair.privateKey, PUB_KEY_ID, body, NOW + 299));
    check(signed(pubKeyPair.privateKey, PUB_KEY_ID, body, NOW - 299));
  });

  it('honours maxSkewSeconds', () => {
    const strict = new Verifier([[PUB_KEY_ID, pubKeyPem]], { clock: fixedClock(NOW), maxSkewSeconds: 60 });
    rejects(
      () => strict.verify(signed(pubKeyPair.privateKey, PUB_KEY_ID, body, NOW + 60), Buffer.from(body)),
      /timestamp skew 60 s exceeds 60 s/,
    );
  });

  it('rejects a timestamp that is not a decimal integer', () => {
    const good = signed(pubKeyPair.privateKey, PUB_KEY_ID, body);
    for (const timestamp of ['abc', `${NOW}.0`, `-${NOW}`, ` ${NOW}`, '1e9', '']) {
      rejects(() => check({ ...good, timestamp }), /is not a decimal integer/);
    }
  });

  it('rejects a signature that is not Base64, or the wrong size, without leaking a crypto error', () => {
    const good = signed(pubKeyPair.privateKey, PUB_KEY_ID, body);
    for (const signature of ['not base64!', good.signature.slice(0, -2), `${good.signature}AAAA`, '====']) {
      rejects(() => check({ ...good, signature }), /^Wechatpay-Signature is not valid Base64$/);
    }
    rejects(() => check({ ...good, signature: Buffer.alloc(12).toString('base64') }), /does not match/);
  });

  it('rejects a signature made for another body, nonce or timestamp', () => {
    const good = signed(pubKeyPair.privateKey, PUB_KEY_ID, body);
    rejects(() => check(good, `${body} `), /does not match the body with key PUB_KEY_ID_/);
    rejects(() => check({ ...good, nonce: `${good.nonce}x` }), /does not match/);
    rejects(() => check({ ...good, timestamp: String(NOW + 1) }), /does not match/);
  });
});

describe('Verifier key store', () => {
  it('holds public-key mode and certificate mode keys at once, each checked with its own key', () => {
    const v1Private = V1_KEY;
    const verifier = new Verifier(
      [
        [PUB_KEY_ID, pubKeyPem],
        [V2_SERIAL, V2_CERT],
      ],
      { clock: fixedClock(NOW) },
    );
    const body = '{"ok":true}';
    verifier.verify(signed(pubKeyPair.privateKey, PUB_KEY_ID, body), Buffer.from(body));
    verifier.verify(signed(v1Private, V2_SERIAL, body), Buffer.from(body));
    // A valid signature presented under the other serial must fail.
    rejects(() => verifier.verify(signed(v1Private, PUB_KEY_ID, body), Buffer.from(body)), /does not match/);
    rejects(
      () => verifier.verify(signed(pubKeyPair.privateKey, V2_SERIAL, body), Buffer.from(body)),
      /does not match/,
    );
  });

  it('adds keys for rotation, as KeyObjects too', () => {
    const verifier = new Verifier([], { clock: fixedClock(NOW) });
    assert.deepEqual(verifier.serials(), []);
    assert.equal(verifier.has(PUB_KEY_ID), false);
    verifier.add(PUB_KEY_ID, pubKeyPair.publicKey);
    const next = generateKeyPairSync('rsa', { modulusLength: 2048 });
    // A private KeyObject is reduced to its public half.
    verifier.add('PUB_KEY_ID_2', next.privateKey);
    assert.equal(verifier.has(PUB_KEY_ID), true);
    assert.deepEqual(verifier.serials(), [PUB_KEY_ID, 'PUB_KEY_ID_2']);
    verifier.verify(signed(next.privateKey, 'PUB_KEY_ID_2', 'x'), Buffer.from('x'));
    verifier.verify(signed(pubKeyPair.privateKey, PUB_KEY_ID, 'x'), Buffer.from('x'));
  });

  it('refuses non-RSA keys', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.throws(
      () => new Verifier([['K', createPublicKey(ec.privateKey)]]),
      /key K is ec, WeChat Pay signs with RSA/,
    );
  });
});
