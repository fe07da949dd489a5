import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { loadRequestHashKeys } from '../../../../lib/config/request-hash-keys';
import { createRuntime } from '../../../../lib/config/runtime';
import type { KeyCache } from '../../../../lib/config/secrets';
import { readPresignSettings } from '../../../../lib/config/settings';
import { MemoryKeyStore } from '../../../support/config/key-store';
import { REQUEST_HASH_SECRET_ARN as ARN } from '../../../support/config/settings';

const CURRENT = 'c'.repeat(43);
const OLD = 'o'.repeat(43);
const MAX_AGE_MS = 300_000;

describe('the request hash’s keys', () => {
  let now = 0;
  let cache: KeyCache;
  let store: MemoryKeyStore;
  const load = (env: NodeJS.ProcessEnv) =>
    loadRequestHashKeys(readPresignSettings(env), MAX_AGE_MS, cache, store);
  beforeEach(() => {
    now = 0;
    cache = createRuntime({ clock: () => now }).keys;
    store = new MemoryKeyStore();
  });

  it('given inline (local runs): used as they are, the previous one during a rotation', async () => {
    assert.deepEqual(await load({ REQUEST_HASH_KEY: CURRENT }), { current: Buffer.from(CURRENT) });
    assert.deepEqual(await load({ REQUEST_HASH_KEY: CURRENT, REQUEST_HASH_KEY_PREVIOUS: OLD }), {
      current: Buffer.from(CURRENT),
      previous: Buffer.from(OLD),
    });
    assert.deepEqual(store.reads, []);
  });

  it('deployed: read from the secret, and re-read once KEY_MATERIAL_MAX_AGE_S passed', async () => {
    store.putSecret(ARN, CURRENT);
    assert.deepEqual(await load({ REQUEST_HASH_KEY: ARN }), { current: Buffer.from(CURRENT) });
    await load({ REQUEST_HASH_KEY: ARN });
    assert.equal(store.count('secret'), 1);
    now += MAX_AGE_MS;
    await load({ REQUEST_HASH_KEY: ARN });
    assert.deepEqual(store.reads, [`secret ${ARN} AWSCURRENT`, `secret ${ARN} AWSCURRENT`]);
  });

  it('AWSPREVIOUS: the secret’s previous version, none before the first rotation', async () => {
    store.putSecret(ARN, CURRENT);
    const env = { REQUEST_HASH_KEY: ARN, REQUEST_HASH_KEY_PREVIOUS: 'AWSPREVIOUS' };
    assert.deepEqual(await load(env), { current: Buffer.from(CURRENT) }, 'not rotated yet');
    assert.ok(store.reads.includes(`secret ${ARN} AWSPREVIOUS`), 'the previous version was asked for');
    store.putSecret(ARN, OLD, 'AWSPREVIOUS');
    now += MAX_AGE_MS;
    assert.deepEqual(await load(env), { current: Buffer.from(CURRENT), previous: Buffer.from(OLD) });
  });

  it('a REQUEST_HASH_KEY secret that does not exist is refused, naming the variable and the secret', async () => {
    await assert.rejects(
      load({ REQUEST_HASH_KEY: ARN }),
      new RegExp(`REQUEST_HASH_KEY: secret ${ARN} does not exist`),
    );
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
