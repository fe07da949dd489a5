import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryAfterSeconds } from '../../../../lib/wechatpay/responses';

const NOW = Date.parse('2026-11-27T04:00:00Z');
const headers = (value?: string) => new Headers(value === undefined ? {} : { 'retry-after': value });

describe('retryAfterSeconds', () => {
  it('reads delay-seconds', () => {
    assert.equal(retryAfterSeconds(headers('3'), NOW), 3);
    assert.equal(retryAfterSeconds(headers(' 0 '), NOW), 0);
  });

  it('reads an HTTP date as the whole seconds until then, never negative', () => {
    assert.equal(retryAfterSeconds(headers('Fri, 27 Nov 2026 04:00:02 GMT'), NOW + 500), 2);
    assert.equal(retryAfterSeconds(headers('Fri, 27 Nov 2026 03:59:00 GMT'), NOW), 0);
  });

  it('is undefined when absent or unreadable', () => {
    assert.equal(retryAfterSeconds(headers(), NOW), undefined);
    assert.equal(retryAfterSeconds(headers('soon'), NOW), undefined);
    assert.equal(retryAfterSeconds(headers('-1'), NOW), undefined);
  });
});
