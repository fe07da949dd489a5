import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as errors from '../../../lib/errors';
import { CodedError } from '../../../lib/wechatpay/errors';

const cause = new Error('socket hang up');

describe('one error hierarchy', () => {
  it('the protocol’s errors are ServiceErrors, and the service’s share their root', () => {
    const protocol = [
      new errors.WechatPayRejected({ status: 400, code: 'PARAM_ERROR', message: 'bad' }, { cause }),
      new errors.WechatPayUnavailable('timed out after 5000 ms', 'RID-1', { cause }),
      new errors.SignatureInvalid('missing Wechatpay-Serial header', { cause }),
      new errors.NotificationRejected('resource is not JSON', { cause }),
    ];
    const service = [
      new errors.DependencyUnavailable('KMS', 'Sign failed', { cause }),
      new errors.ContractNotFound('C1'),
    ];
    for (const error of [...protocol, ...service]) {
      assert.ok(error instanceof errors.ServiceError, error.name);
      assert.ok(error instanceof CodedError, error.name);
      assert.ok(error instanceof Error, error.name);
    }
    for (const error of [...protocol, service[0]]) assert.equal(error?.cause, cause);
    assert.equal(new Error('plain') instanceof errors.ServiceError, false);
  });

  it('names each error after its code in PascalCase, WeChat Pay as two words', () => {
    const named: [errors.ServiceError, string, string][] = [
      [new errors.SignatureInvalid('x'), 'WECHATPAY_SIGNATURE_INVALID', 'WechatPaySignatureInvalid'],
      [new errors.WechatPayUnavailable('x'), 'WECHATPAY_UNAVAILABLE', 'WechatPayUnavailable'],
      [new errors.ContractCodeUsed('C1', 'PRESIGNED'), 'CONTRACT_CODE_USED', 'ContractCodeUsed'],
      [new errors.PayloadTooLarge('x'), 'PAYLOAD_TOO_LARGE', 'PayloadTooLarge'],
    ];
    for (const [error, code, name] of named) {
      assert.equal(error.code, code);
      assert.equal(error.name, name);
      assert.match(String(error), new RegExp(`^${name}: `));
    }
  });

  it('adds to the answer only what each error’s details name, never more', () => {
    assert.deepEqual(new errors.ContractCodeUsed('C1', 'SIGNED').details(), { state: 'SIGNED' });
    assert.deepEqual(new errors.ContractStateConflict('only SIGNED', 'PRESIGNED').details(), {
      state: 'PRESIGNED',
    });
    assert.deepEqual(
      new errors.WechatPayRejected({
        status: 403,
        code: 'NO_AUTH',
        message: 'no',
        detail: { x: 1 },
      }).details(),
      { wechatpay: { status: 403, code: 'NO_AUTH', message: 'no', request_id: undefined } },
    );
    assert.deepEqual(new errors.SignatureInvalid('x').details(), {});
  });
});
