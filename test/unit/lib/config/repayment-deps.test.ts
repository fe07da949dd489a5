import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import {
  type LocalParametersExtension,
  startParametersExtension,
} from '../../../../infra/local/parameters-extension';
import { reconcileDeps, repaymentDeps } from '../../../../lib/config/repayment-deps';
import { createRuntime } from '../../../../lib/config/runtime';
import { BASE_ENV, publicKeyPem } from '../../../support/config/settings';

process.env.AWS_REGION ??= 'ap-southeast-1';

/** The deployed shape (the APIv3 key a secret ARN), with the public key inline so that SSM is not asked. */
const ENV = { ...BASE_ENV, WECHATPAY_PUBLIC_KEY: publicKeyPem() };
const T = Date.parse('2031-05-06T07:08:09Z');

describe('the builders of the repayment functions’ dependencies', () => {
  const kms = mockClient(KMSClient);
  // The APIv3 key's secret behind a loopback Parameters and Secrets extension, which records every read.
  let extension: LocalParametersExtension;
  let deployed: NodeJS.ProcessEnv;
  before(async () => {
    extension = await startParametersExtension({ port: 0 });
    extension.putSecret(BASE_ENV.WECHATPAY_APIV3_KEY, 'a'.repeat(32));
    deployed = {
      ...ENV,
      PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(extension.port),
      AWS_SESSION_TOKEN: extension.token,
    };
  });
  after(async () => {
    kms.restore();
    await extension.close();
  });

  it('the repayments function: the configured loan types, our callback route, the runtime’s clock', async () => {
    kms.on(SignCommand).resolves({ Signature: Buffer.from('signature') });
    const clock = () => T;
    const env = { ...ENV, WECHATPAY_PLAN_LOAN_TYPES: '4567=CASH_LOAN' };
    const deps = await repaymentDeps(createRuntime({ env, clock })).load();
    assert.deepEqual([...deps.loanTypes], [['4567', 'CASH_LOAN']]);
    assert.equal(deps.notifyUrl, ENV.WECHATPAY_NOTIFY_URL);
    assert.equal(deps.clock, clock);
    const signed = await deps.wechatpay.sign({ method: 'GET', path: '/v3/certificates' });
    assert.match(signed.headers.Authorization ?? '', new RegExp(`timestamp="${T / 1000}"`));
  });

  it('reconcile shares one WeChat Pay client and clock between contracts and repayments', async () => {
    const clock = () => T;
    const deps = await reconcileDeps(createRuntime({ env: ENV, clock })).load();
    assert.equal(deps.repayments.wechatpay, deps.wechatpay);
    assert.equal(deps.repayments.contracts, deps.store);
    assert.equal(deps.repayments.clock, clock);
  });

  it('neither reads the APIv3 key, and both need REPAYMENTS_TABLE', async () => {
    await repaymentDeps(createRuntime({ env: deployed })).load();
    await reconcileDeps(createRuntime({ env: deployed })).load();
    assert.deepEqual(extension.requests, [], 'no secret was asked for');
    const { REPAYMENTS_TABLE: _, ...without } = ENV;
    await assert.rejects(repaymentDeps(createRuntime({ env: without })).load(), /REPAYMENTS_TABLE/);
    await assert.rejects(reconcileDeps(createRuntime({ env: without })).load(), /REPAYMENTS_TABLE/);
  });
});
