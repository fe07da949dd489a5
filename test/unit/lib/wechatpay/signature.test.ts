import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nonce, requestMessage } from '../../../../lib/wechatpay/signature';

describe('nonce', () => {
  it('is 32 characters of [0-9A-Za-z] and fresh each time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const n = nonce();
      assert.match(n, /^[0-9A-Za-z]{32}$/);
      seen.add(n);
    }
    assert.equal(seen.size, 100);
  });

  it('is unbiased: a plain `byte % 62` would make 0-7 a quarter more frequent than the rest', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) for (const c of nonce()) counts.set(c, (counts.get(c) ?? 0) + 1);
    assert.equal(counts.size, 62);
    const mean = (chars: string) =>
      [...chars].reduce((sum, c) => sum + (counts.get(c) ?? 0), 0) / chars.length;
    const ratio = mean('01234567') / mean('89ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz');
    assert.ok(ratio > 0.9 && ratio < 1.1, `ratio ${ratio}`);
  });
});

describe('requestMessage', () => {
  it('joins five lines, each ending in \\n, with the method upper-cased', () => {
    const message = requestMessage('post', '/v3/x?a=1', '1554208460', 'NONCE', '{"a":"中"}');
    assert.equal(message.toString('utf8'), 'POST\n/v3/x?a=1\n1554208460\nNONCE\n{"a":"中"}\n');
  });

  it('V6: the canonical GET message of the official SIGN_ERROR sample (85 bytes, empty body line)', () => {
    const n = 'vDitAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const message = requestMessage('GET', '/v3/certificates?algorithm_type=RSA', '1680144553', n, '');
    assert.equal(message.toString('utf8'), `GET\n/v3/certificates?algorithm_type=RSA\n1680144553\n${n}\n\n`);
    assert.equal(message.length, 85);
  });

  it('still appends \\n to a body that already ends in one', () => {
    assert.equal(requestMessage('POST', '/p', '1', 'n', '{}\n').toString(), 'POST\n/p\n1\nn\n{}\n\n');
  });
});
