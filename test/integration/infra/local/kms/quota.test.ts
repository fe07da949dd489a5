import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { type KmsStandIn, startKmsStandIn } from '../../../../../infra/local/kms/server';

describe('KMS stand-in: request quotas', () => {
  let kms: KmsStandIn;
  let client: KMSClient;
  let keyId: string;

  before(async () => {
    kms = await startKmsStandIn();
    client = new KMSClient({
      endpoint: kms.url,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const created = await client.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }));
    keyId = created.KeyMetadata?.KeyId ?? '';
  });
  after(async () => {
    client.destroy();
    await kms.close();
  });

  const sign = () =>
    client.send(
      new SignCommand({
        KeyId: keyId,
        Message: Buffer.from('message'),
        MessageType: 'RAW',
        SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
      }),
    );
  const outcomes = async (n: number) =>
    (await Promise.allSettled(Array.from({ length: n }, sign))).map((r) =>
      r.status === 'fulfilled' ? 'ok' : (r.reason as Error).name,
    );
  const sandbox = async (method: string, body?: unknown) => {
    const res = await fetch(`${kms.url}/sandbox/quota`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('answers ThrottlingException past the Sign quota, as the SDK types it, and signs again once it refills', async () => {
    const set = await sandbox('POST', { Sign: 4 });
    assert.equal(set.status, 200);
    assert.deepEqual(set.json.quotas, { Sign: 4 });
    const burst = await outcomes(10);
    assert.ok(burst.filter((o) => o === 'ok').length <= 5, burst.join(','));
    assert.ok(burst.includes('ThrottlingException'), burst.join(','));
    assert.ok(
      burst.every((o) => o === 'ok' || o === 'ThrottlingException'),
      burst.join(','),
    );
    assert.equal(kms.throttled('Sign'), burst.filter((o) => o !== 'ok').length);
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal((await outcomes(1))[0], 'ok', 'half a second refills two calls');
    const seen = await sandbox('GET');
    assert.deepEqual(seen.json.throttled, { Sign: kms.throttled('Sign') });
  });

  it('lifts the quota with null, and refuses an unknown operation or a bad rate without changing anything', async () => {
    kms.setQuotas({ Sign: 1 });
    const unknown = await sandbox('POST', { Sign: null, Decrypt: 5 });
    assert.equal(unknown.status, 400);
    assert.match(String(unknown.json.message), /quota operation Decrypt is unknown \(known: .*Sign/);
    const bad = await sandbox('POST', { Sign: 'many' });
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.message), /quota for Sign must be a positive number/);
    assert.deepEqual((await sandbox('GET')).json.quotas, { Sign: 1 });
    await sandbox('POST', { Sign: null });
    assert.deepEqual(await outcomes(20), Array(20).fill('ok'));
  });
});
