import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignatureInvalid } from '../../../../lib/errors';
import {
  type KeyEntry,
  RefreshingVerifier,
  type RefreshingVerifierOptions,
} from '../../../../lib/wechatpay/refreshing-verifier';
import type { SignedHeaders } from '../../../../lib/wechatpay/verifier';

const PUB_KEY_ID = 'PUB_KEY_ID_0114232134912410000000000000';
const CERT_SERIAL = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1';
const OTHER_SERIAL = '7A3C19E5D2B0F4C6A8E1D3B5F7092C4E6A8B0D2F';
const pubKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const certKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const BODY = Buffer.from('{"id":"n-1"}');

/** A callback's signature headers, signed as WeChat Pay does. */
function signed(privateKey: KeyObject, serial: string, nowMs: number): SignedHeaders {
  const timestamp = String(Math.floor(nowMs / 1000));
  const nonce = randomBytes(16).toString('hex');
  const message = Buffer.concat([Buffer.from(`${timestamp}\n${nonce}\n`), BODY, Buffer.from('\n')]);
  return { timestamp, nonce, serial, signature: sign('sha256', message, privateKey).toString('base64') };
}

const headersOf = (serial: string) => ({ 'Wechatpay-Serial': serial });

/** A verifier knowing the public-key-mode key, whose refresh lists `listed` and counts its calls. */
function setup(
  listed: KeyEntry[] = [[CERT_SERIAL, certKey.publicKey]],
  options: Partial<RefreshingVerifierOptions> = {},
) {
  let time = 1_700_000_000_000;
  const calls = { refresh: 0, failed: [] as string[] };
  let release: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  const verifier = new RefreshingVerifier([[PUB_KEY_ID, pubKey.publicKey]], {
    refresh: async () => {
      calls.refresh++;
      await gate;
      return listed;
    },
    onRefreshFailed: (_error, serial) => calls.failed.push(serial),
    clock: () => time,
    ...options,
  });
  return {
    verifier,
    calls,
    now: () => time,
    advance: (ms: number) => {
      time += ms;
    },
    /** Holds the next refreshes until the returned function is called. */
    hold: () => {
      gate = new Promise((resolve) => {
        release = resolve;
      });
      return () => release();
    },
  };
}

function unknownSerial(fn: () => void, serial: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SignatureInvalid);
    assert.match(error.message, new RegExp(`unknown serial ${serial}`));
    return true;
  });
}

describe('RefreshingVerifier', () => {
  it('a known serial verifies without any refresh', async () => {
    const { verifier, calls, now } = setup();
    await verifier.learn(headersOf(PUB_KEY_ID));
    verifier.verify(signed(pubKey.privateKey, PUB_KEY_ID, now()), BODY);
    assert.equal(calls.refresh, 0);
  });

  it('an unknown certificate serial triggers one refresh, then verifies with the downloaded key', async () => {
    const { verifier, calls, now } = setup();
    unknownSerial(() => verifier.verify(signed(certKey.privateKey, CERT_SERIAL, now()), BODY), CERT_SERIAL);
    await verifier.learn(headersOf(CERT_SERIAL));
    assert.equal(calls.refresh, 1);
    verifier.verify(signed(certKey.privateKey, CERT_SERIAL, now()), BODY);
    // Learned: the same serial again costs nothing.
    await verifier.learn({ 'wechatpay-serial': CERT_SERIAL });
    assert.equal(calls.refresh, 1);
  });

  it('concurrent callbacks naming the unknown serial share one refresh', async () => {
    const { verifier, calls, now, hold } = setup();
    const release = hold();
    const waiting = Array.from({ length: 20 }, () => verifier.learn(headersOf(CERT_SERIAL)));
    release();
    await Promise.all(waiting);
    assert.equal(calls.refresh, 1);
    verifier.verify(signed(certKey.privateKey, CERT_SERIAL, now()), BODY);
  });

  it('rate limit: within 60 s of a refresh no other starts; after it, one does', async () => {
    const { verifier, calls, now, advance } = setup([]);
    await verifier.learn(headersOf(CERT_SERIAL));
    assert.equal(calls.refresh, 1);
    advance(59_999);
    await verifier.learn(headersOf(CERT_SERIAL));
    await verifier.learn(headersOf(OTHER_SERIAL));
    assert.equal(calls.refresh, 1, 'no second refresh within the interval, whatever the serial');
    unknownSerial(() => verifier.verify(signed(certKey.privateKey, CERT_SERIAL, now()), BODY), CERT_SERIAL);
    advance(1);
    await verifier.learn(headersOf(OTHER_SERIAL));
    assert.equal(calls.refresh, 2);
  });

  it('honours a configured interval', async () => {
    const { verifier, calls, advance } = setup([], { minIntervalMs: 5_000 });
    await verifier.learn(headersOf(CERT_SERIAL));
    advance(5_000);
    await verifier.learn(headersOf(CERT_SERIAL));
    assert.equal(calls.refresh, 2);
  });

  it('never refreshes for a serial a download cannot provide, or with no serial at all', async () => {
    const { verifier, calls } = setup();
    await verifier.learn(headersOf('PUB_KEY_ID_0999999999999999999999999999'));
    await verifier.learn(headersOf('not hex at all'));
    await verifier.learn({ 'Wechatpay-Serial': [CERT_SERIAL, OTHER_SERIAL] });
    await verifier.learn({});
    assert.equal(calls.refresh, 0);
  });

  it('without a refresh (public-key mode only) an unknown serial is simply unknown', async () => {
    const verifier = new RefreshingVerifier([[PUB_KEY_ID, pubKey.publicKey]], {});
    await verifier.learn(headersOf(CERT_SERIAL));
    unknownSerial(
      () => verifier.verify(signed(certKey.privateKey, CERT_SERIAL, Date.now()), BODY),
      CERT_SERIAL,
    );
  });

  it('a failed refresh is reported, learn still resolves, and the rate limit holds', async () => {
    const { verifier, calls, now } = setup([], {
      refresh: async () => {
        calls.refresh++;
        throw new Error('WeChat Pay unavailable');
      },
    });
    await verifier.learn(headersOf(CERT_SERIAL));
    assert.deepEqual(calls.failed, [CERT_SERIAL]);
    unknownSerial(() => verifier.verify(signed(certKey.privateKey, CERT_SERIAL, now()), BODY), CERT_SERIAL);
    await verifier.learn(headersOf(CERT_SERIAL));
    assert.equal(calls.refresh, 1);
  });

  it('learning a key does not weaken verification: a wrong signature under it still fails', async () => {
    const { verifier, now } = setup();
    await verifier.learn(headersOf(CERT_SERIAL));
    assert.throws(
      () => verifier.verify(signed(pubKey.privateKey, CERT_SERIAL, now()), BODY),
      /does not match the body with key/,
    );
  });
});
