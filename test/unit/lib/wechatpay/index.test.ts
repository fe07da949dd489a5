import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as wechatpay from '../../../../lib/wechatpay';

const DIR = new URL('../../../../lib/wechatpay/', import.meta.url);

describe('lib/wechatpay', () => {
  it('re-exports the public API', () => {
    const expected = [
      'APP_PRESIGN_PATH',
      'H5_PRESIGN_PATH',
      'PemSigner',
      'TERMINATE_PATH',
      'Verifier',
      'WechatPayClient',
      'authorization',
      'contractPath',
      'decryptResource',
      'encryptField',
      'encryptResource',
      'nonce',
      'openNotification',
      'parseAppPresignResponse',
      'parseContract',
      'parseH5PresignResponse',
      'parseTerminateResponse',
      'readSignedHeaders',
      'requestMessage',
      'responseMessage',
      'systemClock',
    ];
    const exports = wechatpay as Record<string, unknown>;
    for (const name of expected) assert.notEqual(exports[name], undefined, name);
  });

  it('stays pure: no AWS SDK, no lib/aws, no lib/contracts', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length >= 10);
    for (const file of files) {
      const source = readFileSync(new URL(file, DIR), 'utf8');
      const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1] ?? '');
      for (const target of imports) {
        assert.doesNotMatch(
          target,
          /^@aws-sdk\/|^@aws-lambda-powertools\/|^@middy\/|\/aws(\/|$)|\/contracts(\/|$)/,
          `${file} imports ${target}`,
        );
      }
    }
  });

  it('systemClock is epoch milliseconds', () => {
    const before = Date.now();
    const now = wechatpay.systemClock();
    assert.ok(now >= before && now <= Date.now());
  });
});
