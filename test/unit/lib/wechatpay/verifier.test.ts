import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { Formatter, Rsa } from 'wechatpay-axios-plugin';
import { SignatureInvalid } from '../../../../lib/errors';
import { readSignedHeaders, type SignedHeaders, Verifier } from '../../../../lib/wechatpay/verifier';

// V2: wechatpay-go core/notify/notify_test.go (TestHandler_ParseNotifyRequest); the certificate carries the V1 key.
const V1_KEY = `-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDZUJN33V+dSfvd
fL0Mu+39XrZNXFFMQSy1V15FpncHeV47SmV0TzTqZc7hHB0ddqAdDi8Z5k3TKqb7
6sOwYr5TcAfuR6PIPaleyE0/0KrljBum2Isa2Nyq7Dgc3ElBQ6YN4l/a+DpvKaz1
FSKmKrhLNskqokWVSlu4g8OlKlbPXQ9ibII14MZRQrrkTmHYHzfi7GXXM0thAKuR
0HNvyhTHBh4/lrYM3GaMvmWwkwvsMavnOex6+eioZHBOb1/EIZ/LzC6zuHArPpyW
3daGaZ1rtQB1vVzTyERAVVFsXXgBHvfFud3w3ShsJYk8JvMwK2RpJ5/gV0QSARcm
LDRUAlPzAgMBAAECggEBAMc7rDeUaXiWv6bMGbZ3BTXpg1FhdddnWUnYE8HfX/km
OFI7XtBHXcgYFpcjYz4D5787pcsk7ezPidAj58zqenuclmjKnUmT3pfbI5eCA2v4
C9HnbYDrmUPK1ZcADtka4D6ScDccpNYNa1g2TFHzkIrEa6H+q7S3O2fqxY/DRVtN
0JIXalBb8daaqL5QVzSmM2BMVnHy+YITJWIkP2a3pKs9C0W65JGDsnG0wVrHinHF
+cnhFZIbaPEI//DAFMc9NkrWOKVRTEgcCUxCFaHOZVNxDWZD7A2ZfJB2rK6eg//y
gEiFDR2h6mTaDowMB4YF2n2dsIO4/dCG8vPHI20jn4ECgYEA/ZGu6lEMlO0XZnam
AZGtiNgLcCfM/C2ZERZE7QTRPZH1WdK92Al9ndldsswFw4baJrJLCmghjF/iG4zi
hhBvLnOLksnZUfjdumxoHDWXo2QBWbI5QsWIE7AuTiWgWj1I7X4fCXSQf6i+M/y2
6TogQ7d0ANpZFyOkTNMn/tiJvLECgYEA22XqlamG/yfAGWery5KNH2DGlTIyd6xJ
WtJ9j3jU99lZ0bCQ5xhiBbU9ImxCi3zgTsoqLWgA/p00HhNFNoUcTl9ofc0G3zwT
D1y0ZzcnVKxGJdZ6ohW52V0hJStAigtjYAsUgjm7//FH7PiQDBDP1Wa6xSRkDQU/
aSbQxvEE8+MCgYEA3bb8krW7opyM0XL9RHH0oqsFlVO30Oit5lrqebS0oHl3Zsr2
ZGgoBlWBsEzk3UqUhTFwm/DhJLTSJ/TQPRkxnhQ5/mewNhS9C7yua7wQkzVmWN+V
YeUGTvDGDF6qDz12/vJAgSwDDRym8x4NcXD5tTw7mmNRcwIfL22SkysThIECgYAV
BgccoEoXWS/HP2/u6fQr9ZIR6eV8Ij5FPbZacTG3LlS1Cz5XZra95UgebFFUHHtC
EY1JHJY7z8SWvTH8r3Su7eWNaIAoFBGffzqqSVazfm6aYZsOvRY6BfqPHT3p/H1h
Tq6AbBffxrcltgvXnCTORjHPglU0CjSxVs7awW3AEQKBgB5WtaC8VLROM7rkfVIq
+RXqE5vtJfa3e3N7W3RqxKp4zHFAPfr82FK5CX2bppEaxY7SEZVvVInKDc5gKdG/
jWNRBmvvftZhY59PILHO2X5vO4FXh7suEjy6VIh0gsnK36mmRboYIBGsNuDHjXLe
BDa+8mDLkWu5nHEhOxy2JJZl
-----END PRIVATE KEY-----
`;
const V2_CERT = `-----BEGIN CERTIFICATE-----
MIIDVzCCAj+gAwIBAgIJANfOWdH1ItcBMA0GCSqGSIb3DQEBCwUAMEIxCzAJBgNV
BAYTAlhYMRUwEwYDVQQHDAxEZWZhdWx0IENpdHkxHDAaBgNVBAoME0RlZmF1bHQg
Q29tcGFueSBMdGQwHhcNMjEwNDI3MDg1NTIzWhcNMzEwNDI1MDg1NTIzWjBCMQsw
CQYDVQQGEwJYWDEVMBMGA1UEBwwMRGVmYXVsdCBDaXR5MRwwGgYDVQQKDBNEZWZh
dWx0IENvbXBhbnkgTHRkMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA
2VCTd91fnUn73Xy9DLvt/V62TVxRTEEstVdeRaZ3B3leO0pldE806mXO4RwdHXag
HQ4vGeZN0yqm++rDsGK+U3AH7kejyD2pXshNP9Cq5YwbptiLGtjcquw4HNxJQUOm
DeJf2vg6byms9RUipiq4SzbJKqJFlUpbuIPDpSpWz10PYmyCNeDGUUK65E5h2B83
4uxl1zNLYQCrkdBzb8oUxwYeP5a2DNxmjL5lsJML7DGr5znsevnoqGRwTm9fxCGf
y8wus7hwKz6clt3Whmmda7UAdb1c08hEQFVRbF14AR73xbnd8N0obCWJPCbzMCtk
aSef4FdEEgEXJiw0VAJT8wIDAQABo1AwTjAdBgNVHQ4EFgQUT1c7nd/SUO76HSoZ
umNUJv1R5PwwHwYDVR0jBBgwFoAUT1c7nd/SUO76HSoZumNUJv1R5PwwDAYDVR0T
BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAfTjxKRQMzNB/U6ZoCUS+BSNfa2Oh
0plMN6ZuzwiVVZwg1jywvv5yv04koS7Pd4i9E4gt9ZBUQXlpq+A3oOCEEHNRR6b2
kyazGRM7s0OP5X21WrbpSmKmU6K7hkfx30yYs08LVs/Q8DIhvaj1FCFeJzUCzYn/
fHMq4tsbKO0dKAeydPM/nrUZBmaYQVKMVOORGLFjFKVO7JV6Kq/R86ouhjEPgJOe
2xulNBUcjicqtZlBdEh/PWCYP2SpGVDclKm8jeo175T3EVAkdKzzmfpxtMmnMlmq
cTJOU9TxuGvNASMtjj7pYIerTx+xgZDXEVBWFW9PjJ0TV06tCRsgSHItgg==
-----END CERTIFICATE-----
`;
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
