import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { loadRequestHashKeys } from '../../../../lib/config/request-hash-keys';
import { createRuntime } from '../../../../lib/config/runtime';
import type { KeyCache } from '../../../../lib/config/secrets';
import { readPresignSettings } from '../../../../lib/config/settings';
import { REQUEST_HASH_SECRET_ARN as ARN } from '../../../support/config/settings';

process.env.AWS_REGION ??= 'ap-southeast-1';

const CURRENT = 'c'.repeat(43);
const OLD = 'o'.repeat(43);
const MAX_AGE_MS = 300_000;

describe('the request hash’s keys', () => {
  const secrets = mockClient(SecretsManagerClient);
  let now = 0;
  let cache: KeyCache;
  const load = (env: NodeJS.ProcessEnv) => loadRequestHashKeys(readPresignSettings(env), MAX_AGE_MS, cache);
  beforeEach(() => {
    secrets.reset();
    now = 0;
    cache = createRuntime({ clock: () => now }).keys;
  });
  after(() => secrets.restore());

  it('given inline (local runs): used as they are, the previous one during a rotation', async () => {
    assert.deepEqual(await load({ REQUEST_HASH_KEY: CURRENT }), { current: Buffer.from(CURRENT) });
    assert.deepEqual(await load({ REQUEST_HASH_KEY: CURRENT, REQUEST_HASH_KEY_PREVIOUS: OLD }), {
      current: Buffer.from(CURRENT),
      previous: Buffer.from(OLD),
    });
    assert.equal(secrets.calls().length, 0);
  });

  it('deployed: read from the secret, and re-read once POWERTOOLS_PARAMETERS_MAX_AGE passed', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: CURRENT });
    assert.deepEqual(await load({ REQUEST_HASH_KEY: ARN }), { current: Buffer.from(CURRENT) });
    await load({ REQUEST_HASH_KEY: ARN });
    assert.equal(secrets.commandCalls(GetSecretValueCommand).length, 1);
    now += MAX_AGE_MS;
    await load({ REQUEST_HASH_KEY: ARN });
    assert.equal(secrets.commandCalls(GetSecretValueCommand).length, 2);
  });

  it('AWSPREVIOUS: the secret’s previous version, none before the first rotation', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: CURRENT });
    secrets
      .on(GetSecretValueCommand, { SecretId: ARN, VersionStage: 'AWSPREVIOUS' })
      .rejectsOnce(new ResourceNotFoundException({ message: 'no AWSPREVIOUS version', $metadata: {} }))
      .resolves({ SecretString: OLD });
    const env = { REQUEST_HASH_KEY: ARN, REQUEST_HASH_KEY_PREVIOUS: 'AWSPREVIOUS' };
    assert.deepEqual(await load(env), { current: Buffer.from(CURRENT) }, 'not rotated yet');
    now += MAX_AGE_MS;
    assert.deepEqual(await load(env), { current: Buffer.from(CURRENT), previous: Buffer.from(OLD) });
  });

  it('refuses short keys, AWSPREVIOUS without a secret, and a "previous" key that is the current one', async () => {
    await assert.rejects(load({ REQUEST_HASH_KEY: 'short' }), /REQUEST_HASH_KEY must be at least 32 bytes/);
    await assert.rejects(
      load({ REQUEST_HASH_KEY: CURRENT, REQUEST_HASH_KEY_PREVIOUS: 'short' }),
      /REQUEST_HASH_KEY_PREVIOUS must be at least 32 bytes/,
    );
    await assert.rejects(
      load({ REQUEST_HASH_KEY: CURRENT, REQUEST_HASH_KEY_PREVIOUS: 'AWSPREVIOUS' }),
      /AWSPREVIOUS needs REQUEST_HASH_KEY to be a secret ARN/,
    );
    assert.throws(
      () => readPresignSettings({ REQUEST_HASH_KEY: CURRENT, REQUEST_HASH_KEY_PREVIOUS: CURRENT }),
      /REQUEST_HASH_KEY_PREVIOUS repeats REQUEST_HASH_KEY/,
    );
    assert.throws(() => readPresignSettings({}), /missing configuration: REQUEST_HASH_KEY/);
  });
});
