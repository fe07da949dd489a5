import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import {
  type LocalParametersExtension,
  startParametersExtension,
} from '../../../../infra/local/parameters-extension';
import {
  certificateDeps,
  contractDeps,
  notifyDeps,
  outboxDeps,
  presignDeps,
} from '../../../../lib/config/deps';
import { createRuntime } from '../../../../lib/config/runtime';
import { BASE_ENV, publicKeyPem } from '../../../support/config/settings';

process.env.AWS_REGION ??= 'ap-southeast-1';

/** Inline key material: nothing to read from SSM or Secrets Manager. */
const ENV = {
  ...BASE_ENV,
  WECHATPAY_PUBLIC_KEY: publicKeyPem(),
  WECHATPAY_APIV3_KEY: 'k'.repeat(32),
  REQUEST_HASH_KEY: 'h'.repeat(32),
};
const T = Date.parse('2031-05-06T07:08:09Z');

describe('the builders of each function’s dependencies', () => {
  const kms = mockClient(KMSClient);
  // Deployed-style settings (secret ARNs, a parameter name) read through a loopback Parameters and Secrets extension.
  let extension: LocalParametersExtension;
  let deployed: NodeJS.ProcessEnv;
  before(async () => {
    extension = await startParametersExtension({ port: 0 });
    extension.putSecret(BASE_ENV.REQUEST_HASH_KEY, 's'.repeat(40));
    extension.putSecret(BASE_ENV.WECHATPAY_APIV3_KEY, 'a'.repeat(32));
    extension.putParameter(BASE_ENV.WECHATPAY_PUBLIC_KEY, ENV.WECHATPAY_PUBLIC_KEY);
    deployed = {
      ...BASE_ENV,
      PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(extension.port),
      AWS_SESSION_TOKEN: extension.token,
    };
  });
  after(async () => {
    kms.restore();
    await extension.close();
  });
  const secretsRead = () => extension.requests.filter((r) => r.startsWith('/secretsmanager/'));

  it('read the runtime’s environment, never process.env, and only when loaded', async () => {
    assert.equal(process.env.WECHATPAY_MCHID, undefined, 'the test process has no WeChat Pay configuration');
    const env: NodeJS.ProcessEnv = {};
    const wiring = presignDeps(createRuntime({ env }));
    await assert.rejects(wiring.load(), /missing configuration: WECHATPAY_MCHID, /);
    Object.assign(env, ENV);
    assert.equal((await wiring.load()).notifyUrl, ENV.WECHATPAY_NOTIFY_URL);
  });

  it('hand out the same object until the settings or the key material change', async () => {
    const env: NodeJS.ProcessEnv = { ...ENV };
    const wiring = presignDeps(createRuntime({ env }));
    const first = await wiring.load();
    assert.equal(await wiring.load(), first);
    env.WECHATPAY_PUBLIC_KEY = publicKeyPem();
    const rotated = await wiring.load();
    assert.notEqual(rotated, first, 'a rotated key builds a new client');
    assert.equal(await wiring.load(), rotated);
    env.WECHATPAY_TIMEOUT_MS = '1500';
    assert.notEqual(await wiring.load(), rotated, 'a changed setting too');
  });

  it('give every dependency the runtime’s clock: the deps’ own and the WeChat Pay client’s signatures', async () => {
    kms.on(SignCommand).resolves({ Signature: Buffer.from('signature') });
    const clock = () => T;
    const deps = await contractDeps(createRuntime({ env: ENV, clock })).load();
    assert.equal(deps.clock, clock);
    const signed = await deps.wechatpay.sign({ method: 'GET', path: '/v3/certificates' });
    assert.match(signed.headers.Authorization ?? '', new RegExp(`timestamp="${T / 1000}"`));
    const runtime = createRuntime({ env: ENV, clock });
    assert.equal((await presignDeps(runtime).load()).clock, clock);
    assert.equal((await notifyDeps(runtime).load()).clock, clock);
  });

  it('presign hashes requests with REQUEST_HASH_KEY itself, never with anything of the APIv3 key', async () => {
    const { hashKeys } = await presignDeps(createRuntime({ env: ENV })).load();
    assert.deepEqual(hashKeys, { current: Buffer.from(ENV.REQUEST_HASH_KEY) });
    const reset = await presignDeps(
      createRuntime({ env: { ...ENV, WECHATPAY_APIV3_KEY: 'z'.repeat(32) } }),
    ).load();
    assert.deepEqual(reset.hashKeys, hashKeys, 'resetting the APIv3 key changes nothing');
    extension.requests.length = 0;
    const deps = await presignDeps(createRuntime({ env: deployed })).load();
    assert.deepEqual(deps.hashKeys, { current: Buffer.from('s'.repeat(40)) });
    assert.deepEqual(
      secretsRead(),
      [`/secretsmanager/get ${BASE_ENV.REQUEST_HASH_KEY} AWSCURRENT 200`],
      'the request-hash secret only, not the APIv3 key’s',
    );
  });

  it('presign reads the request-hash key and WeChat Pay’s public key at once: one round trip to the extension', async () => {
    // An extension that answers neither read until both have arrived: read one after the other, the first would
    // wait out the extension's timeout and the load would fail.
    const waiting = new Map<string, ServerResponse>();
    const answers: Record<string, unknown> = {
      '/secretsmanager/get': { SecretString: 'p'.repeat(40) },
      '/systemsmanager/parameters/get': { Parameter: { Value: ENV.WECHATPAY_PUBLIC_KEY } },
    };
    const server = createServer((req, res) => {
      waiting.set(new URL(req.url ?? '/', 'http://localhost').pathname, res);
      if (waiting.size < 2) return;
      for (const [path, held] of waiting) held.writeHead(200).end(JSON.stringify(answers[path] ?? {}));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = String((server.address() as AddressInfo).port);
      const env = { ...deployed, PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: port };
      const deps = await presignDeps(createRuntime({ env })).load();
      assert.deepEqual(deps.hashKeys, { current: Buffer.from('p'.repeat(40)) });
      assert.deepEqual([...waiting.keys()].sort(), Object.keys(answers).sort());
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('contracts and reconcile never read the APIv3 key; notify does', async () => {
    extension.requests.length = 0;
    await contractDeps(createRuntime({ env: deployed })).load();
    assert.deepEqual(secretsRead(), []);
    assert.deepEqual(extension.requests, [
      `/systemsmanager/parameters/get ${BASE_ENV.WECHATPAY_PUBLIC_KEY} 200`,
    ]);
    const notify = await notifyDeps(createRuntime({ env: deployed })).load();
    assert.deepEqual(notify.apiV3Key, Buffer.from('a'.repeat(32)));
  });

  it('the certificate refresh has nothing to do unless certificate mode is enabled', async () => {
    assert.equal(await certificateDeps(createRuntime({ env: ENV })).load(), undefined);
    const clock = () => T;
    const enabled = { ...ENV, WECHATPAY_PLATFORM_CERTIFICATES: 'enabled' };
    const deps = await certificateDeps(createRuntime({ env: enabled, clock })).load();
    assert.equal(deps?.clock, clock);
  });

  it('dimension every metric by STAGE, local by default', () => {
    assert.deepEqual(outboxDeps(createRuntime({ env: {} })).dimensions(), { stage: 'local' });
    assert.deepEqual(notifyDeps(createRuntime({ env: { STAGE: 'prod' } })).dimensions(), { stage: 'prod' });
  });
});
