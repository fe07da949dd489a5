import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type LocalParametersExtension,
  localSecretArn,
  startParametersExtension,
} from '../../../../infra/local/parameters-extension';
import { parametersExtension } from '../../../../lib/aws/parameters-extension';
import { h5Body } from '../../../support/contracts/fixtures';
import { startTestStack, type TestStack } from '../../../support/local/stack';
import { captureOutput } from '../../../support/observability/output-capture';

const ARN = localSecretArn('wechatpay-credit-repayment/local/apiv3-key');
const PARAMETER = '/wechatpay-credit-repayment/local/wechatpay-public-key';

describe('the local Parameters and Secrets extension', () => {
  let extension: LocalParametersExtension;
  const get = (path: string, token = extension.token) =>
    fetch(`http://127.0.0.1:${extension.port}${path}`, {
      headers: { 'X-Aws-Parameters-Secrets-Token': token },
    });

  before(async () => {
    extension = await startParametersExtension({ port: 0 });
    extension.putSecret(ARN, 'first');
    extension.putParameter(PARAMETER, 'pem');
  });
  after(async () => {
    await extension?.close();
  });

  test('answers GetSecretValue’s and GetParameter’s JSON, the documented paths with or without a final slash', async () => {
    const secret = await get(`/secretsmanager/get?secretId=${encodeURIComponent(ARN)}`);
    assert.equal(secret.status, 200);
    assert.deepEqual(
      { ...((await secret.json()) as object), VersionId: undefined, CreatedDate: undefined },
      {
        ARN,
        Name: 'wechatpay-credit-repayment/local/apiv3-key',
        SecretString: 'first',
        VersionStages: ['AWSCURRENT'],
        VersionId: undefined,
        CreatedDate: undefined,
      },
    );
    const parameter = await get(
      `/systemsmanager/parameters/get/?name=${encodeURIComponent(PARAMETER)}&withDecryption=true`,
    );
    assert.equal(parameter.status, 200);
    const { Parameter } = (await parameter.json()) as { Parameter: Record<string, unknown> };
    assert.equal(Parameter.Name, PARAMETER);
    assert.equal(Parameter.Value, 'pem');
  });

  test('refuses a request without the session token, or with another one: 403', async () => {
    for (const token of ['', 'not-the-token']) {
      const res = await get(`/secretsmanager/get?secretId=${encodeURIComponent(ARN)}`, token);
      assert.equal(res.status, 403);
      assert.equal(await res.text(), 'Bad Token');
    }
  });

  test('what does not exist is the service’s 400; an unknown path 404', async () => {
    const secret = await get('/secretsmanager/get?secretId=nope');
    assert.equal(secret.status, 400);
    assert.equal(((await secret.json()) as { __type: string }).__type, 'ResourceNotFoundException');
    const parameter = await get('/systemsmanager/parameters/get?name=%2Fnope');
    assert.equal(parameter.status, 400);
    assert.equal(((await parameter.json()) as { __type: string }).__type, 'ParameterNotFound');
    assert.equal((await get('/secretsmanager/list')).status, 404);
  });

  test('put-secret-value keeps the old value as AWSPREVIOUS; the deployed adapter reads both', async () => {
    const store = parametersExtension({ port: extension.port, token: extension.token });
    assert.equal(await store.secret(ARN, 'AWSPREVIOUS'), undefined, 'no previous version yet');
    extension.putSecret(ARN, 'second');
    assert.equal(await store.secret(ARN), 'second');
    assert.equal(await store.secret(ARN, 'AWSPREVIOUS'), 'first');
    assert.equal(await store.parameter(PARAMETER), 'pem');
    assert.equal(await store.parameter('/nope'), undefined);
  });
});

describe('the local stack reads its key material through the extension, as deployed', () => {
  let stack: TestStack;

  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack?.close();
  });

  test('the variables name a secret and a parameter, never the values; presign reads both through the extension', async () => {
    assert.match(
      stack.env.WECHATPAY_APIV3_KEY ?? '',
      /^arn:aws:secretsmanager:[^:]+:\d{12}:secret:.+-\w{6}$/,
    );
    assert.match(stack.env.REQUEST_HASH_KEY ?? '', /^arn:aws:secretsmanager:/);
    assert.equal(stack.env.WECHATPAY_PUBLIC_KEY, PARAMETER);
    assert.equal(stack.env.AWS_SESSION_TOKEN, stack.extension.token);
    for (const value of Object.values(stack.keyMaterial)) {
      assert.ok(!Object.values(stack.env).includes(value), 'no key material in the environment');
    }
    const res = await stack.request('POST', '/contracts/h5-presign', h5Body());
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.ok(
      stack.extension.requests.includes(`/secretsmanager/get ${stack.env.REQUEST_HASH_KEY} AWSCURRENT 200`),
      stack.extension.requests.join('\n'),
    );
    assert.ok(stack.extension.requests.includes(`/systemsmanager/parameters/get ${PARAMETER} 200`));
    assert.ok(
      !stack.extension.requests.some((r) => r.includes(String(stack.env.WECHATPAY_APIV3_KEY))),
      'presign never reads the APIv3 key',
    );
  });

  test('with the extension gone, a presign whose cached keys aged out answers 500 and the log says to add the layer', async () => {
    process.env.KEY_MATERIAL_MAX_AGE_S = '1';
    const output = captureOutput();
    try {
      await sleep(1100);
      await stack.extension.close();
      const res = await stack.request('POST', '/contracts/h5-presign', h5Body());
      assert.equal(res.status, 500);
      assert.equal(res.body.code, 'INTERNAL_ERROR');
      const logged = JSON.stringify(output.logs());
      assert.match(
        logged,
        /the AWS Parameters and Secrets Lambda Extension is not answering on localhost:\d+: add its layer \(docs\/deploy.md\)/,
      );
    } finally {
      output.stop();
      delete process.env.KEY_MATERIAL_MAX_AGE_S;
    }
  });
});
