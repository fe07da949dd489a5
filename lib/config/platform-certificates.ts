import { refreshPlatformCertificates, unexpired } from '../contracts/platform-keys';
import type { PlatformCertificateSet, PlatformKeyStore } from '../contracts/ports';
import type { PlatformCertificate } from '../wechatpay/certificates';
import type { Clock } from '../wechatpay/clock';
import { Cached } from './cache';

/**
 * Certificate mode's platform certificates as every function of one process sees them: read from the store at
 * most every `maxAgeMs` (a failed read is retried at the next call), and replaced at once by a refresh, so the
 * certificate a callback just taught this container verifies the next presign answer too. `source` names the
 * store (its table): another table is another set.
 */
export class PlatformCertificates {
  readonly #clock: Clock;
  readonly #stored: Cached<PlatformCertificate[]>;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#stored = new Cached(clock);
  }

  /** The stored certificates that have not expired now. */
  async current(store: PlatformKeyStore, source: string, maxAgeMs: number): Promise<PlatformCertificate[]> {
    const certificates = await this.#stored.get(
      source,
      maxAgeMs,
      async () => (await store.load())?.certificates ?? [],
    );
    return unexpired(certificates, this.#clock());
  }

  /** Downloads (the download verifies), stores, and serves the result to this process from now on. */
  async refresh(
    store: PlatformKeyStore,
    source: string,
    download: () => Promise<PlatformCertificate[]>,
  ): Promise<PlatformCertificateSet> {
    const set = await refreshPlatformCertificates({ download, store, clock: this.#clock });
    this.#stored.set(source, set.certificates);
    return set;
  }
}
