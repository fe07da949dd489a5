import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { makeHandler } from '../../../functions/notify';
import { notifyDeps } from '../../../lib/config/deps';
import { createRuntime } from '../../../lib/config/runtime';
import { captureOutput } from '../../support/observability/output-capture';
import { apiGatewayEvent, lambdaContext } from '../../support/wechatpay/callbacks';
import { V2 } from '../../support/wechatpay/vectors';

/**
 * V2 (wechatpay-go's full signed callback) through the real handler, built on a runtime of its own: the
 * configuration is given to it, not to process.env, and its clock stands at the time the 2021 signature is
 * fresh. Its resource is sealed with a 16-byte key (AES-128-GCM), so a handler that verified the signature
 * answers 400 at decryption, never 401.
 */
const clock = { now: V2.verify_at_unix * 1000 };
const env = {
  WECHATPAY_MCHID: '1900000109',
  WECHATPAY_MERCHANT_SERIAL_NO: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
  WECHATPAY_PUBLIC_KEY_ID: V2.certificate_serial_hex,
  WECHATPAY_PUBLIC_KEY: new X509Certificate(V2.platform_certificate_pem).publicKey
    .export({ type: 'spki', format: 'pem' })
    .toString(),
  WECHATPAY_APIV3_KEY: 'abcdefghijABCDEFGHIJ0123456789xy',
  WECHATPAY_NOTIFY_URL: 'https://example.com/wechatpay/notifications',
  CONTRACTS_TABLE: 'unit-contracts',
  NOTIFICATIONS_TABLE: 'unit-notifications',
  REPAYMENTS_TABLE: 'unit-repayments',
};
const handler = makeHandler(notifyDeps(createRuntime({ env, clock: () => clock.now })));

/** The answer, and why the handler's log line says it refused (the answer itself is generic). */
async function deliver(body: string | Buffer, isBase64Encoded: boolean) {
  const event = apiGatewayEvent({ headers: V2.headers, body: Buffer.from(body) }, { isBase64Encoded });
  const output = captureOutput();
  let result: APIGatewayProxyStructuredResultV2;
  try {
    result = (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
  } finally {
    output.stop();
  }
  const why = output.logs().find((l) => l.message === 'callback refused')?.why;
  return {
    status: result.statusCode,
    body: JSON.parse(String(result.body)) as Record<string, unknown>,
    why: String(why),
  };
}

describe('functions/notify handler: the published V2 callback', () => {
  for (const isBase64Encoded of [false, true]) {
    it(`verifies (isBase64Encoded ${isBase64Encoded}) and stops at its AES-128 resource with 400`, async () => {
      const res = await deliver(V2.body, isBase64Encoded);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.deepEqual(res.body, { code: 'FAIL', message: 'notification could not be decoded' });
      assert.match(res.why, /AES-256-GCM authentication/);
    });
  }

  it('one changed byte of the body: 401 before any decryption', async () => {
    const res = await deliver(V2.body.replace('"签约成功"', '"签约失败"'), true);
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, { code: 'FAIL', message: 'signature verification failed' });
    assert.match(res.why, /signature does not match/);
  });

  it('300 s later on the runtime’s clock the same callback is stale: 401', async () => {
    clock.now = (V2.verify_at_unix + 300) * 1000;
    const res = await deliver(V2.body, false);
    assert.equal(res.status, 401);
    assert.equal(res.why, 'timestamp skew 300 s exceeds 300 s');
  });
});
