import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlatformCertificates } from '../../../../lib/config/platform-certificates';
import type { PlatformCertificateSet, PlatformKeyStore } from '../../../../lib/contracts/ports';
import type { PlatformCertificate } from '../../../../lib/wechatpay/certificates';

const T0 = Date.parse('2026-11-27T00:00:00Z');
const DAY = 24 * 3600_000;

const certificate = (serial: string, notAfter: number): PlatformCertificate => ({
  serial,
  pem: `-----BEGIN CERTIFICATE-----\n${serial}\n-----END CERTIFICATE-----`,
  not_before: new Date(T0 - DAY).toISOString(),
  not_after: new Date(notAfter).toISOString(),
});

/** A store that counts its reads and may fail them. */
class MemoryKeyStore implements PlatformKeyStore {
  set: PlatformCertificateSet | undefined;
  loads = 0;
  failNext = false;

  async load() {
    this.loads += 1;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('DynamoDB unavailable');
    }
    return this.set;
  }

  async save(set: PlatformCertificateSet) {
    this.set = set;
    return 'saved' as const;
  }
}

function setup() {
  const clock = { now: T0 };
  const store = new MemoryKeyStore();
  return { clock, store, certificates: new PlatformCertificates(() => clock.now) };
}

describe('PlatformCertificates', () => {
  it('reads the store at most once per maxAge on the injected clock, and serves only unexpired certificates', async () => {
    const { clock, store, certificates } = setup();
    const soon = certificate('AA01', T0 + 30_000);
    const later = certificate('AA02', T0 + 10 * DAY);
    store.set = { certificates: [soon, later], downloaded_at: new Date(T0).toISOString() };
    assert.deepEqual(await certificates.current(store, 'table', 60_000), [soon, later]);
    clock.now += 30_000;
    assert.deepEqual(await certificates.current(store, 'table', 60_000), [later], 'AA01 expired');
    assert.equal(store.loads, 1);
    clock.now += 30_000;
    await certificates.current(store, 'table', 60_000);
    assert.equal(store.loads, 2, 'read again once maxAge passed');
  });

  it('an empty store is no certificate, and another source is read on its own', async () => {
    const { store, certificates } = setup();
    assert.deepEqual(await certificates.current(store, 'table', 60_000), []);
    await certificates.current(store, 'other-table', 60_000);
    assert.equal(store.loads, 2);
  });

  it('a failed read is not kept: the next call reads again', async () => {
    const { store, certificates } = setup();
    store.failNext = true;
    await assert.rejects(certificates.current(store, 'table', 60_000), /DynamoDB unavailable/);
    assert.deepEqual(await certificates.current(store, 'table', 60_000), []);
    assert.equal(store.loads, 2);
  });

  it('a refresh stores the download, dated by the clock, and serves it at once without a read', async () => {
    const { clock, store, certificates } = setup();
    assert.deepEqual(await certificates.current(store, 'table', 60_000), []);
    clock.now += 1_000;
    const fresh = certificate('BB01', T0 + 10 * DAY);
    const set = await certificates.refresh(store, 'table', async () => [fresh]);
    assert.deepEqual(set, { certificates: [fresh], downloaded_at: new Date(T0 + 1_000).toISOString() });
    assert.deepEqual(store.set, set);
    assert.deepEqual(await certificates.current(store, 'table', 60_000), [fresh]);
    assert.equal(store.loads, 1, 'the refreshed set was served from memory');
  });

  it('a failed download stores nothing and keeps what was served', async () => {
    const { store, certificates } = setup();
    const kept = certificate('AA01', T0 + DAY);
    store.set = { certificates: [kept], downloaded_at: new Date(T0).toISOString() };
    await certificates.current(store, 'table', 60_000);
    await assert.rejects(
      certificates.refresh(store, 'table', () => Promise.reject(new Error('signature does not match'))),
      /signature does not match/,
    );
    assert.deepEqual(await certificates.current(store, 'table', 60_000), [kept]);
  });
});
